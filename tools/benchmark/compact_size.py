# Copyright (c) lth_mm authors. All rights reserved.
"""Compact ticket size of R50 Mask R-CNN at keep 0.2 (paper scope), and an exact round trip.

Random weights, magnitude-pruned globally over the ``paper`` scope, encoded as bitmask +
raw fp32 values, bitmask + byte-shuffled zstd values (the default) and fp16 values; plus
the paper's int32 index + fp32 value format and the entropy bound, all as a fraction of
the dense fp32 state dict (:mod:`lth_mm.benchmark.compact_size`).

    python tools/benchmark/compact_size.py [--config mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py]
"""
import argparse
import json
import sys

R50_MASK_RCNN = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=R50_MASK_RCNN, help='model config (file or mmdet::)')
    p.add_argument('--keep', type=float, default=0.2, help='keep ratio of the prunable weights')
    p.add_argument('--json', action='store_true', help='print JSON only')
    args = p.parse_args(argv)
    from lth_mm.benchmark.compact_size import format_result, measure
    r = measure(args.config, args.keep)
    print(json.dumps(r) if args.json else format_result(r))
    return 0


if __name__ == '__main__':
    sys.exit(main())
