# Copyright (c) lth_mm authors. All rights reserved.
"""Dense and effective (sparse) MACs and parameters of a config's model, or of a ticket.

    python tools/analysis/complexity.py CONFIG [--ticket TICKET | --checkpoint CKPT] \
        [--shape H W] [--json OUT]

Without --ticket/--checkpoint it prints the dense counts. With a ticket the densities come
from its masks; with a checkpoint, from the zeros of its conv/linear weights. MACs are
mmengine's FlopAnalyzer counts (one multiply-add = 1) on one input of --shape (default:
800x1344 for detectors as mmdet's get_flops, the codec's input size for pose models);
ops it cannot count (RoIAlign, NMS, ...) are listed.
"""
import argparse
import os.path as osp
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


def default_shape(cfg):
    """Input (H, W): the pose codec's input size, else mmdet get_flops' 800x1344."""
    codec = cfg.get('codec')
    if isinstance(codec, dict) and 'input_size' in codec:
        w, h = codec['input_size']
        return int(h), int(w)
    return 800, 1344


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.ticket, 'ticket'), (args.checkpoint, 'checkpoint')):
        if path and not osp.isfile(path):
            sys.exit(f'error: {what} {path!r} does not exist.')
    if '::' not in args.config and not osp.isfile(args.config):
        sys.exit(f'error: config {args.config!r} does not exist.')
    sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'benchmark'))
    from compact_size import load_config

    from lth_mm.apis import build_model_from_cfg
    from lth_mm.complexity import analyze, format_complexity
    from lth_mm.fileio import atomic_write_json
    from lth_mm.pruning import TicketError, check_fits, load_ticket

    cfg = load_config(args.config)
    masks = {}
    if args.ticket:
        try:
            ticket = load_ticket(args.ticket)
        except TicketError as e:
            sys.exit(f'error: {e}')
    model = build_model_from_cfg(cfg, args.checkpoint)
    if args.ticket:
        try:
            check_fits(ticket.masks, dict(model.named_parameters()))
        except (TicketError, ValueError) as e:
            sys.exit(f'error: {e}')
        masks = ticket.masks.as_bool()
    elif args.checkpoint:
        masks = None  # the zeros of the loaded weights
    shape = tuple(args.shape) if args.shape else default_shape(cfg)
    c = analyze(model, masks, shape)
    print(format_complexity(c))
    if args.json:
        atomic_write_json(c.as_dict(), args.json)
    return 0


if __name__ == '__main__':
    sys.exit(main())
