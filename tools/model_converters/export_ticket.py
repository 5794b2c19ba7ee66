# Copyright (c) lth_mm authors. All rights reserved.
"""Export a trained ticket as a model mmdet/mmpose/mmpretrain build and run.

    python tools/model_converters/export_ticket.py CONFIG CHECKPOINT OUT_DIR
        [--ticket TICKET] [--ema] [--no-compact] [--cfg-options KEY=VALUE ...]

A structured (channel) ticket becomes a physically smaller model: OUT_DIR/model.pth (a
state dict) and OUT_DIR/config.py (``ChannelPrunedModel``: the original model config plus
the channels removed), so ``tools/test.py OUT_DIR/config.py OUT_DIR/model.pth`` and
``DetInferencer(OUT_DIR/config.py, OUT_DIR/model.pth)`` run it. An unstructured ticket keeps
its dense shapes; OUT_DIR/model.lthc is its compact lossless file. See lth_mm.export.
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description='Export a ticket as a (smaller) runnable model.')
    p.add_argument('config', help='the config the ticket was trained with')
    p.add_argument('checkpoint', help="the ticket's trained weights (round_R/final.pth)")
    p.add_argument('out_dir', help='a new or empty directory')
    p.add_argument('--ticket', help='the ticket file (default: the masks the checkpoint '
                   'records)')
    p.add_argument('--ema', action='store_true', help="export the checkpoint's EMA weights")
    p.add_argument('--no-compact', action='store_true', help='skip the .lthc file')
    p.add_argument('--cfg-options', nargs='+', default=[], help='config overrides KEY=VALUE')
    args = p.parse_args(argv)
    from lth_mm.export import export_ticket
    try:  # bad input (checked before anything is written): one message, no traceback
        info = export_ticket(args.config, args.checkpoint, args.out_dir, ticket=args.ticket,
                             weights='ema' if args.ema else 'raw',
                             cfg_options=args.cfg_options,
                             compact=not args.no_compact)
    except (FileExistsError, FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')
    removed = sum(info['channels_removed'].values())
    print(f"parameters {info['params_before']:,} -> {info['params_after']:,} "
          f"({removed} channels removed in {len(info['channels_removed'])} groups)")
    for kind, path in info['files'].items():
        print(f'{kind}: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
