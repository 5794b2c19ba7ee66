# Copyright (c) lth_mm authors. All rights reserved.
"""Per-step cost of mask enforcement, measured side by side with plain mmdet training.

The config's real ``model.train_step`` on the same pre-loaded batches, cycling plain
training, lth_mm's fused enforcement and the per-parameter gradient hooks it replaced;
min and median per variant, the paired median ratio with a bootstrap 95% interval, and
the enforcement kernels timed alone against the plain step (see
:mod:`lth_mm.benchmark.enforcement`). Data loading is excluded.

    python tools/benchmark/enforcement_overhead.py \
        [configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py] --steps 20
"""
import argparse
import sys

DEFAULT_CONFIG = 'configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py'
# (flag, type, default, help) of the measurement's options
OPTIONS = (
    ('--steps', int, 20, 'timed steps per variant'),
    ('--warmup', int, 2, 'untimed steps per variant'),
    ('--batches', int, 4, 'distinct batches to cycle'),
    ('--keep-ratio', float, 0.2, 'keep ratio of the masks'),
    ('--device', str, None, 'cpu or cuda (default: cuda if present)'),
    ('--data-config', str, None, 'take the training batches from this config (default: '
     'CONFIG), e.g. the synthetic quickstart data for a COCO model config'),
    ('--scale-factor', float, None, 'override the Resize scale_factor of the data pipeline '
     '(6.25 makes the 128 px synthetic images 800 px, a COCO-sized step)'),
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Mask enforcement overhead per training step.')
    p.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    for flag, kind, default, text in OPTIONS:
        p.add_argument(flag, type=kind, default=default, help=text)
    p.add_argument('--amp', action='store_true', help='AmpOptimWrapper (GPU only)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from lth_mm.benchmark.enforcement import format_result, measure
    print(format_result(measure(
        args.config, args.steps, args.warmup, args.batches, args.keep_ratio, args.device,
        args.amp, args.data_config, args.scale_factor)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
