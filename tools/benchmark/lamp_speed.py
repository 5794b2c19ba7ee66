# Copyright (c) lth_mm authors. All rights reserved.
"""LAMP vs global magnitude: mask computation time and layer collapse.

Both criteria prune the ``paper`` scope of a model at its initialisation at keep 0.2,
interleaved, min and median; then each criterion's collapse report (tensors left under
1% density). Goal (issue "Scope II"): LAMP within 2x of global magnitude on R50 Mask
R-CNN (:mod:`lth_mm.benchmark.lamp_speed`).

    python tools/benchmark/lamp_speed.py [--config mmdet::mask_rcnn/...] [--repeats 5]
        [--collapse-config mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py]
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default='mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
                   help='model of the timing')
    p.add_argument('--collapse-config',
                   default='mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py',
                   help='model of the collapse report (empty: none)')
    p.add_argument('--keep', type=float, default=0.2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    import torch

    from lth_mm.benchmark.lamp_speed import CRITERIA, collapse, speed
    torch.set_num_threads(args.threads)
    s = speed(args.config, args.keep, args.repeats)
    print(f'mask computation, {args.config} ({s["params"] / 1e6:.1f}M prunable weights), '
          f'keep {args.keep}, {args.threads} thread(s), {args.repeats} interleaved runs:')
    for c in CRITERIA:
        print(f'  {c:17s} median {s[c]["median"]:.3f} s, min {s[c]["min"]:.3f} s')
    print(f'  lamp / global_magnitude (medians): {s["ratio"]:.2f}x (goal <= 2x)')
    if args.collapse_config:
        print(f'collapse at keep {args.keep}, {args.collapse_config} (initialisation):')
        for c, line in collapse(args.collapse_config, args.keep).items():
            print(f'  {c}: {line}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
