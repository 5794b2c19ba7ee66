# Copyright (c) lth_mm authors. All rights reserved.
"""Global magnitude masks on R50 Mask R-CNN: lth_mm vs torch.nn.utils.prune.

One global L1 threshold over the ``paper`` scope (41.1M weights) at keep 0.2, both ways,
the masks checked equal; interleaved runs reported as min and median, and the peak extra
memory of ours in a fresh process (:mod:`lth_mm.benchmark.mask_speed`).

    python tools/benchmark/mask_speed.py [--repeats 3]
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
                   help='model config (file or mmdet::)')
    p.add_argument('--keep', type=float, default=0.2, help='keep ratio of the prunable weights')
    p.add_argument('--repeats', type=int, default=3, help='timed repetitions of each')
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (default: torch\'s); 1 is steadier on a '
                   'shared CPU, where spinning OpenMP threads wait on each other')
    args = p.parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    from lth_mm.benchmark.mask_speed import format_result, measure
    print(format_result(measure(args.config, args.keep, args.repeats)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
