# Copyright (c) lth_mm authors. All rights reserved.
"""What lth_mm adds to a resume, against mmengine loading the checkpoint itself.

lth_mm's mask restore (load the ticket, bind, re-apply, re-attach the enforcer) and
mmengine's ``load_checkpoint`` are timed interleaved on R50 Mask R-CNN (random weights,
keep 0.2, paper scope); the ticket's size is compared with the checkpoint's
(:mod:`lth_mm.benchmark.resume_cost`).

    python tools/benchmark/resume_cost.py [--repeats 5]
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(
        description='lth_mm\'s mask restore vs mmengine\'s load_checkpoint, interleaved.')
    p.add_argument('--repeats', type=int, default=5, help='timed repetitions of each')
    p.add_argument('--config', default='mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
                   help='the model (random weights, keep 0.2)')
    args = p.parse_args(argv)
    from lth_mm.benchmark.resume_cost import format_result, measure
    print(format_result(measure(args.config, repeats=args.repeats)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
