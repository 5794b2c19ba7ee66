# Copyright (c) lth_mm authors. All rights reserved.
"""Run a config over several seeds and aggregate the rounds' metrics (mean and spread).

The paper averages every VOC setting over 5 seeds. ``launch`` prints (or, ``--run``, runs
one after the other, skipping seeds that finished and going on after a failed one) one
training per seed, each in ``<root>/seed_<s>/`` with
``randomness.seed`` and ``lottery.seed`` set to the seed, for three launchers:

    python tools/seeds.py launch CONFIG --seeds 0 1 2 3 4                       # local
    python tools/seeds.py launch CONFIG --seeds 0 1 2 3 4 --launcher dist --gpus 8
    python tools/seeds.py launch CONFIG --seeds 0 1 2 3 4 --launcher slurm \\
        --partition PART --gpus 8                                                # srun
    python tools/seeds.py launch CONFIG --seeds 0 1 --run                       # run them

``aggregate`` reads every ``seed_*/lottery_summary.json`` under the root, groups the rows
by (round, kind) and writes ``<root>/seeds_summary.json``: per row, every numeric metric
and sparsity with its per-seed values, mean, sample standard deviation, min, max and n (a
COCO -1, "nothing to evaluate", is left out, never averaged), and prints the table (AP and
sparsities in %):

    python tools/seeds.py aggregate work_dirs/CONFIG_NAME

Extra arguments after ``--`` go to tools/train.py unchanged. The work is done by
:mod:`lth_mm.apis.seeds`.
"""
import argparse
import os.path as osp
import sys

# Only the standard library at module level, so that `--help` is instant; these two
# facts are checked against lth_mm.apis.seeds / lth_mm.paths by tests/test_seeds.py.
LAUNCHERS = ('local', 'dist', 'slurm')
SEEDS_SUMMARY = 'seeds_summary.json'


def build_parser():
    """The ``launch`` / ``aggregate`` command line."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    la = sub.add_parser('launch', help='print or run one training per seed')
    la.add_argument('config')
    la.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    la.add_argument('--launcher', choices=LAUNCHERS, default='local')
    la.add_argument('--gpus', type=int, default=1)
    la.add_argument('--partition', help='Slurm partition (--launcher slurm)')
    la.add_argument('--root', help='parent of the seed_<s> work dirs '
                    '(default: work_dirs/<config name>)')
    la.add_argument('--run', action='store_true',
                    help='run the commands one after the other (default: print them)')
    ag = sub.add_parser('aggregate', help=f'write <root>/{SEEDS_SUMMARY} and print it')
    ag.add_argument('root', help='the folder holding seed_<s>/ work dirs')
    ag.add_argument('--metrics', nargs='*', help='columns of the printed table')
    return p


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if '--' in argv:
        i = argv.index('--')
        argv, extra = argv[:i], argv[i + 1:]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmd == 'launch' and not osp.isfile(args.config):
        parser.error(f'config not found: {args.config}')
    from lth_mm.apis import aggregate_seed_runs, launch_seeds
    try:
        if args.cmd == 'launch':
            return launch_seeds(args.config, args.seeds, args.root, args.launcher,
                                args.gpus, args.partition, extra, run=args.run)
        print(aggregate_seed_runs(args.root, args.metrics))
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    return 0


if __name__ == '__main__':
    sys.exit(main())
