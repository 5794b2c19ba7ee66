# Copyright (c) lth_mm authors. All rights reserved.
"""Inference latency of dense vs unstructured vs structured (channel) tickets, side by side.

    python tools/benchmark/ticket_speed.py [CONFIG] [--size H W] [--keeps 0.75 0.5 0.35]
        [--threads N] [--repeats 5] [--json OUT]

Default CONFIG: mmdet's R50 Mask R-CNN at 800x1333 (random weights; nothing downloaded).
The table gives network sparsity, parameters, MACs, file size, latency (median, min-max of
interleaved runs) and the speed-up over dense (see :mod:`lth_mm.benchmark.ticket_speed`).
"""
import argparse
import sys

# lth_mm.benchmark.common.R50_MASK_RCNN, spelt out so that --help imports nothing heavy
R50_MASK_RCNN = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'


def main(argv=None):
    p = argparse.ArgumentParser(description='Latency of dense, unstructured and structured '
                                'tickets (batch 1, interleaved).')
    p.add_argument('config', nargs='?', default=R50_MASK_RCNN,
                   help='config file or package::path (default: R50 Mask R-CNN)')
    p.add_argument('--size', type=int, nargs=2, default=(800, 1333), metavar=('H', 'W'))
    p.add_argument('--keeps', type=float, nargs='+', default=(0.75, 0.5, 0.35),
                   help='channel keep ratios of the structured tickets')
    p.add_argument('--uncoupled', action='store_true',
                   help='leave channel groups tied by additions dense (the default '
                        'criterion option coupled=False; this benchmark prunes them)')
    p.add_argument('--threads', type=int, default=None, help='torch intra-op threads')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--json', help='also write the raw figures here')
    args = p.parse_args(argv)
    from lth_mm.benchmark.common import run_and_print
    from lth_mm.benchmark.ticket_speed import run, table
    return run_and_print(
        lambda: run(args.config, tuple(args.size), tuple(args.keeps),
                    coupled=not args.uncoupled, repeats=args.repeats, warmup=args.warmup),
        table, args.threads, args.json)


if __name__ == '__main__':
    sys.exit(main())
