# Copyright (c) lth_mm authors. All rights reserved.
"""Train a model (a lottery-ticket run or a plain one) from an MMDetection or MMPose config.

The command line is the one of MMDetection 3.x's ``tools/train.py``, so the usual recipes
carry over::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] \
        [--auto-scale-lr] [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]
    bash tools/dist_train.sh CONFIG GPUS [ARGS]
    bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [ARGS]
    mim train lth_mm CONFIG [ARGS]

The work is done by :func:`lth_mm.apis.run_train`.
"""
import argparse
import sys

# Only the standard library at module level: `--help` (which `mim train` calls before
# every run) must not import torch, mmengine or lth_mm.


def parse_args(argv=None):
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Train a detector or pose estimator (lottery-ticket pruning runs '
        'included) from an MMDetection or MMPose config.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models '
                        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--amp', action='store_true', default=False,
        help='enable automatic-mixed-precision training (switches OptimWrapper to '
        'AmpOptimWrapper with a dynamic loss scale)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='enable automatically scaling LR (needs `auto_scale_lr.base_batch_size` '
        'in the config)')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--cfg-options', nargs='+', action='extend', metavar='KEY=VALUE',
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    # torch.distributed.launch passes `--local-rank` (torch >= 2.0) or `--local_rank`
    # (older); torchrun passes neither and sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        from lth_mm.apis import export_local_rank, run_train
    except ModuleNotFoundError as e:  # `mim train` may run this file with any Python
        sys.exit(f'error: {e} in {sys.executable}; run `make setup` (or `pip install -e .`) '
                 'in the lth_mm checkout first.')
    export_local_rank(args.local_rank)
    run_train(args.config, cfg_options=args.cfg_options, work_dir=args.work_dir,
              resume=args.resume, amp=args.amp, auto_scale_lr=args.auto_scale_lr,
              launcher=args.launcher)


if __name__ == '__main__':
    main()
