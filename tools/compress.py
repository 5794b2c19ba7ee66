# Copyright (c) lth_mm authors. All rights reserved.
"""Compact lossless tickets: a pruned checkpoint as bitmask + non-zero values, and back.

    # compress (mask from the ticket, or from the checkpoint's zeros without --ticket)
    python tools/compress.py work_dir/round_1/final.pth --ticket work_dir/round_1/ticket.pth \
        --out round_1.lthc [--fp16] [--no-zstd]
    # decompress to a plain mmengine checkpoint (loads with strict=True into the model)
    python tools/compress.py round_1.lthc --decompress --out final.pth [--config CONFIG]

The format is described in :mod:`lth_mm.compact`. Every check runs before anything is
written, and files are written atomically. The work is done by
:func:`lth_mm.apis.compress_checkpoint` and :func:`lth_mm.apis.decompress_checkpoint`.
"""
import argparse
import sys

# Only the standard library at module level, so that `--help` is instant.


def parse_args(argv=None):
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    p = argparse.ArgumentParser(description='Compress a pruned checkpoint to a compact '
                                'lossless file (bitmask + values), or decompress one.')
    p.add_argument('input', help='checkpoint to compress, or .lthc file with --decompress')
    p.add_argument('--out', required=True, help='file to write')
    p.add_argument('--ticket', help='ticket whose masks define the sparse tensors (default: '
                   'the checkpoint\'s own zeros)')
    p.add_argument('--fp16', action='store_true',
                   help='store floating values as float16 (lossy: within fp16 rounding)')
    p.add_argument('--no-zstd', action='store_true',
                   help='store values raw (bitmask + raw values) instead of byte-shuffle + zstd')
    p.add_argument('--level', type=int, default=3, help='zstd level (default 3)')
    p.add_argument('--decompress', action='store_true', help='input is a compact file')
    p.add_argument('--config', help='with --decompress: check the file fits this config\'s '
                   'model and load it there with strict=True before writing')
    p.add_argument('--force', action='store_true', help='overwrite --out if it exists')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.decompress and (args.ticket or args.fp16):
        sys.exit('error: --ticket and --fp16 apply when compressing, not with --decompress.')
    from lth_mm.apis import compress_checkpoint, decompress_checkpoint
    if args.decompress:
        return decompress_checkpoint(args.input, args.out, args.config, args.force)
    return compress_checkpoint(args.input, args.out, args.ticket, fp16=args.fp16,
                               zstd_level=None if args.no_zstd else args.level,
                               force=args.force)


if __name__ == '__main__':
    sys.exit(main())
