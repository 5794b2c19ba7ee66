# Copyright (c) lth_mm authors. All rights reserved.
"""Compact lossless tickets: a pruned checkpoint as bitmask + non-zero values, and back.

    # compress (mask from the ticket, or from the checkpoint's zeros without --ticket)
    python tools/compress.py work_dir/round_1/final.pth --ticket work_dir/round_1/ticket.pth \
        --out round_1.lthc [--fp16] [--no-zstd]
    # decompress to a plain mmengine checkpoint (loads with strict=True into the model)
    python tools/compress.py round_1.lthc --decompress --out final.pth [--config CONFIG]

The format is described in ``lth_mm/compact.py``. Every check runs before anything is
written, and files are written atomically.
"""
import argparse
import os.path as osp
import sys


def parse_args(argv=None):
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


def _state_dict(ckpt):
    import torch
    if isinstance(ckpt, dict) and isinstance(ckpt.get('state_dict'), dict):
        return ckpt['state_dict'], dict(ckpt.get('meta') or {})
    if isinstance(ckpt, dict) and ckpt and all(isinstance(v, torch.Tensor)
                                               for v in ckpt.values()):
        return ckpt, {}
    sys.exit('error: the checkpoint holds no state_dict (expected an mmengine checkpoint '
             'or a plain state dict).')


def compress(args) -> int:
    from lth_mm.compact import CompactError, save_compact
    from lth_mm.engine.checkpoint_compat import load_checkpoint_file
    from lth_mm.pruning import TicketError, load_ticket

    ticket = None
    if args.ticket:
        try:
            ticket = load_ticket(args.ticket)
        except TicketError as e:
            sys.exit(f'error: {e}')
    try:
        ckpt = load_checkpoint_file(args.input)
    except Exception as e:  # torch raises several types for a bad file
        sys.exit(f'error: cannot load checkpoint {args.input!r} ({type(e).__name__}: {e}).')
    state_dict, meta = _state_dict(ckpt)
    masks = ticket.masks.as_bool() if ticket is not None else None
    try:
        stats = save_compact(args.out, state_dict, masks,
                             zstd_level=None if args.no_zstd else args.level, fp16=args.fp16,
                             meta=meta, ticket_meta=ticket.meta if ticket else None,
                             progress=True)
    except CompactError as e:
        sys.exit(f'error: {e}')
    print(f'\n{stats.masked_tensors} tensors as bitmask + values ({stats.kept:,} of '
          f'{stats.masked_numel:,} weights kept); {stats.compact_bytes:,} bytes = '
          f'{100 * stats.ratio:.1f}% of the dense state dict ({stats.dense_bytes:,} bytes); '
          f'entropy bound {100 * stats.entropy_bytes / max(stats.dense_bytes, 1):.1f}%'
          f'{" (fp16, lossy)" if args.fp16 else ""}\nwritten to {args.out}')
    return 0


def decompress(args) -> int:
    from lth_mm.compact import CompactError, load_compact
    from lth_mm.fileio import atomic_torch_save

    expected = model = None
    if args.config:
        from mmengine.config import Config
        from lth_mm.apis import build_model_from_cfg
        if not osp.isfile(args.config):
            sys.exit(f'error: config {args.config!r} does not exist.')
        model = build_model_from_cfg(Config.fromfile(args.config))
        expected = model.state_dict()
    try:
        compact = load_compact(args.input, expected=expected)
    except CompactError as e:
        sys.exit(f'error: {e}')
    if model is not None:
        model.load_state_dict(compact.state_dict, strict=True)
    ckpt = dict(meta=compact.header.get('meta') or {}, state_dict=compact.state_dict)
    atomic_torch_save(ckpt, args.out)
    n = sum(t.numel() for t in compact.state_dict.values())
    print(f'{len(compact.state_dict)} tensors ({n:,} values, {len(compact.masks)} sparse) '
          f'written to {args.out}' + (' (from fp16 values)' if compact.header.get('fp16')
                                      else '') +
          (f'; loaded into {args.config} with strict=True' if model is not None else ''))
    return 0


def main(argv=None):
    args = parse_args(argv)
    from lth_mm.apis import check_tool_files
    if args.decompress and (args.ticket or args.fp16):
        sys.exit('error: --ticket and --fp16 apply when compressing, not with --decompress.')
    check_tool_files({'compact file' if args.decompress else 'checkpoint': args.input,
                      'ticket': args.ticket}, args.out, args.force)
    return decompress(args) if args.decompress else compress(args)


if __name__ == '__main__':
    sys.exit(main())
