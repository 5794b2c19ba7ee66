# Copyright (c) lth_mm authors. All rights reserved.
"""Dense and effective (sparse) MACs and parameters of a config's model, or of a ticket.

    python tools/analysis/complexity.py CONFIG [--ticket TICKET | --checkpoint CKPT] \
        [--shape H W] [--json OUT]

Without --ticket/--checkpoint it prints the dense counts. With a ticket the densities come
from its masks; with a checkpoint, from the zeros of its conv/linear weights. MACs are
mmengine's FlopAnalyzer counts (one multiply-add = 1) on one input of --shape (default:
800x1344 for detectors as mmdet's get_flops, the codec's input size for pose models);
ops it cannot count (RoIAlign, NMS, ...) are listed
(:func:`lth_mm.analysis.model_complexity.config_complexity`).
"""
import argparse
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Dense and sparse MACs / parameters.')
    p.add_argument('config', help='model config (a file, or mmdet::/mmpose:: path)')
    src = p.add_mutually_exclusive_group()
    src.add_argument('--ticket', help='ticket whose masks give each layer\'s density')
    src.add_argument('--checkpoint', help='pruned checkpoint: densities from its zeros')
    p.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'), default=None)
    p.add_argument('--json', help='also write the counts as JSON here')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from lth_mm.analysis.model_complexity import config_complexity
    from lth_mm.complexity import format_complexity
    from lth_mm.fileio import atomic_write_json
    from lth_mm.pruning import TicketError
    try:
        c = config_complexity(args.config, args.ticket, args.checkpoint, args.shape)
    except (FileNotFoundError, TicketError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(format_complexity(c))
    if args.json:
        atomic_write_json(c.as_dict(), args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())
