# Copyright (c) lth_mm authors. All rights reserved.
"""Test (and evaluate) a checkpoint, e.g. a winning ticket, with an MMDetection or MMPose config.

The command line follows MMDetection 3.x's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] \
        [--show-dir DIR] [--tta] [--cfg-options KEY=VALUE ...] [--launcher ...]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [ARGS]
    bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [ARGS]
    mim test lth_mm CONFIG --checkpoint CHECKPOINT [ARGS]

The registry scope comes from the config's ``default_scope`` (``mmdet`` or ``mmpose``);
``--show-dir`` drives ``DetVisualizationHook`` or ``PoseVisualizationHook`` accordingly.
The work is done by :func:`lth_mm.apis.run_test`.
"""
import argparse
import sys

# Only the standard library at module level, so that `--help` is instant (see train.py).


def parse_args(argv=None):
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a detector or pose estimator checkpoint from an '
        'MMDetection or MMPose config.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--out', type=str, help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
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
    parser.add_argument(
        '--tta', action='store_true',
        help='test-time augmentation (flip), for MMDetection configs')
    # see train.py: torch.distributed.launch passes one of these, torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        from lth_mm.apis import export_local_rank, run_test
    except ModuleNotFoundError as e:  # `mim test` may run this file with any Python
        sys.exit(f'error: {e} in {sys.executable}; run `make setup` (or `pip install -e .`) '
                 'in the lth_mm checkout first.')
    export_local_rank(args.local_rank)
    run_test(args.config, args.checkpoint, cfg_options=args.cfg_options,
             work_dir=args.work_dir, out=args.out, show=args.show, show_dir=args.show_dir,
             wait_time=args.wait_time, tta=args.tta, launcher=args.launcher)


if __name__ == '__main__':
    main()
