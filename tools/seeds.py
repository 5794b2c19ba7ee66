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

Extra arguments after ``--`` go to tools/train.py unchanged.
"""
import argparse
import glob
import math
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
from collections import OrderedDict
from typing import Dict, List, Sequence

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
if REPO not in sys.path:  # run from a checkout without installing lth_mm
    sys.path.insert(0, REPO)

from lth_mm import paths  # noqa: E402  (the run layout, one place)

SEEDS_SUMMARY = paths.SEEDS_SUMMARY_JSON
SEED_DIR = paths.SEED_PREFIX + '{}'
LAUNCHERS = ('local', 'dist', 'slurm')
# Summary-row fields aggregated besides the metrics.
_ROW_FIELDS = ('keep_ratio', 'prunable_sparsity', 'network_sparsity')


def default_root(config: str) -> str:
    """``work_dirs/<config name>``, mmengine's default work dir of a config."""
    return osp.join('work_dirs', osp.splitext(osp.basename(config))[0])


def seed_commands(config: str, seeds: Sequence[int], root: str, launcher: str = 'local',
                  gpus: int = 1, partition: str = None, extra: Sequence[str] = (),
                  python: str = None) -> List[List[str]]:
    """The training command of every seed.

    Args:
        config: config path.
        seeds: the seeds.
        root: parent of the per-seed work dirs.
        launcher: ``local`` (tools/train.py), ``dist`` (tools/dist_train.sh) or ``slurm``
            (srun + tools/train.py --launcher slurm, as mmdet's slurm_train.sh).
        gpus: GPUs per run (dist, slurm).
        partition: Slurm partition (slurm only; required there).
        extra: more tools/train.py arguments.
        python: interpreter of local / slurm runs (default: this one).

    Returns:
        list[list[str]]: one argv per seed.

    Raises:
        ValueError: unknown launcher, no or repeated seeds, slurm without a partition.
    """
    if launcher not in LAUNCHERS:
        raise ValueError(f'unknown launcher {launcher!r}; use one of {LAUNCHERS}.')
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f'--seeds needs distinct seeds, got {seeds}.')
    if launcher == 'slurm' and not partition:
        raise ValueError('--launcher slurm needs --partition (the Slurm partition).')
    python = python or sys.executable
    train = osp.join('tools', 'train.py')
    cmds = []
    for s in seeds:
        # One --cfg-options (a second one would replace the first): the seeds go first
        # into the user's, so a seed the user sets explicitly wins.
        opts = [f'randomness.seed={s}', f'lottery.seed={s}']
        more = list(extra)
        if '--cfg-options' in more:
            i = more.index('--cfg-options') + 1
            more[i:i] = opts
        else:
            more += ['--cfg-options', *opts]
        args = [config, '--work-dir', paths.seed_work_dir(root, s), *more]
        if launcher == 'local':
            cmds.append([python, train, *args])
        elif launcher == 'dist':
            cmds.append(['bash', osp.join('tools', 'dist_train.sh'), config, str(gpus),
                         *args[1:]])
        else:
            name = f'{osp.splitext(osp.basename(config))[0]}_seed{s}'
            cmds.append(['srun', '-p', partition, f'--job-name={name}',
                         f'--gres=gpu:{min(gpus, 8)}', f'--ntasks={gpus}',
                         f'--ntasks-per-node={min(gpus, 8)}', '--cpus-per-task=5',
                         '--kill-on-bad-exit=1', python, '-u', train, *args,
                         '--launcher', 'slurm'])
    return cmds


def _stats(values: Sequence[float]) -> dict:
    n = len(values)
    mean = sum(values) / n
    # Sample standard deviation (n - 1): the spread of a few seeds, as papers report it.
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return dict(mean=mean, std=std, min=min(values), max=max(values), n=n)


def aggregate_summaries(summaries: Dict[int, dict]) -> dict:
    """Mean and spread over seeds of the rounds of lottery summaries (pure).

    Args:
        summaries: seed -> the run's ``lottery_summary.json`` content.

    Returns:
        dict: ``seeds`` (sorted), ``rounds``: one entry per (round, kind) present in any
        run, with ``round``, ``kind``, ``seeds`` (those that have it) and ``values``:
        name -> ``{per_seed: {seed: v}, mean, std, min, max, n}`` for every numeric metric
        and for keep ratio and sparsities.

    Raises:
        ValueError: no summaries.
    """
    if not summaries:
        raise ValueError('no lottery summaries to aggregate.')
    rows = OrderedDict()
    for seed in sorted(summaries):
        for row in summaries[seed].get('rounds', []):
            key = (row['round'], row.get('kind'))
            entry = rows.setdefault(key, dict(round=key[0], kind=key[1], seeds=[],
                                              values=OrderedDict()))
            entry['seeds'].append(seed)
            fields = {k: row.get(k) for k in _ROW_FIELDS}
            fields.update(row.get('metrics') or {})
            for name, v in fields.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                        not math.isfinite(v):
                    continue
                if name not in _ROW_FIELDS and v < 0:
                    continue  # COCO's -1: nothing to evaluate in that run, not a value
                entry['values'].setdefault(name, OrderedDict(per_seed={}))['per_seed'][
                    seed] = float(v)
    for entry in rows.values():
        for name, val in entry['values'].items():
            val.update(_stats(list(val['per_seed'].values())))
    return dict(seeds=sorted(summaries), rounds=list(rows.values()))


def find_seed_runs(root: str) -> Dict[int, str]:
    """``seed -> work dir`` of the ``seed_<s>`` folders under ``root`` with a summary."""
    from lth_mm import paths
    runs = {}
    for d in glob.glob(osp.join(root, SEED_DIR.format('*'))):
        m = re.fullmatch(SEED_DIR.format(r'(-?\d+)'), osp.basename(d))
        if m and osp.isfile(paths.summary_json(d)):
            runs[int(m.group(1))] = d
    return runs


def _cell(name: str, v: dict) -> str:
    """``mean ± std`` in percent for sparsities and COCO/VOC metrics (fractions), as every
    other lth_mm table, else as they are."""
    from lth_mm.report import metric_scale
    scale = 100.0 if name in _ROW_FIELDS else metric_scale(name)
    unit = '%' if scale == 100 else ''
    if scale == 100:
        return f"{scale * v['mean']:.2f}{unit} ± {scale * v['std']:.2f}"
    return f"{v['mean']:.4g} ± {v['std']:.2g}"


def format_table(agg: dict, metrics: Sequence[str] = None) -> str:
    """Markdown: a row per (round, kind), ``mean ± std`` (sample std) per metric."""
    names = list(metrics or [])
    if not names:
        for entry in agg['rounds']:
            for n in entry['values']:
                if n not in names and n not in ('keep_ratio', 'prunable_sparsity'):
                    names.append(n)
    head = ['round', 'kind', 'seeds'] + names
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * 2 + '---:|' * (len(head) - 2)]
    for e in agg['rounds']:
        cells = [str(e['round']), str(e['kind']), str(len(e['seeds']))]
        for n in names:
            v = e['values'].get(n)
            cells.append('' if v is None else _cell(n, v))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def seed_finished(work_dir: str) -> bool:
    """Whether a seed's run holds a summary row for every round of its plan."""
    from lth_mm.report import load_summary
    try:
        summary = load_summary(work_dir)
    except FileNotFoundError:
        return False
    plan = summary.get('plan') or []
    done = {r.get('round') for r in summary.get('rounds', [])}
    return bool(plan) and len(done) >= len(plan)


def run_seeds(cmds: Sequence[List[str]], seeds: Sequence[int], root: str) -> List[int]:
    """Run the seeds one after the other: finished ones are skipped, a failed one does not
    stop the others; progress (``seed 2/5``) and the time left are logged.

    Returns:
        list[int]: the seeds that failed.
    """
    import time

    from mmengine.logging import print_log
    failed, took = [], []
    for i, (seed, cmd) in enumerate(zip(seeds, cmds)):
        tag = f'seed {seed} ({i + 1}/{len(cmds)})'
        if seed_finished(paths.seed_work_dir(root, seed)):
            print_log(f'{tag}: finished before, skipped', logger='current')
            continue
        left = len(cmds) - i
        eta = (f', about {sum(took) / len(took) * left / 60:.0f} min left with this one'
               if took else '')
        print_log(f'{tag}: running{eta}\n  ' + ' '.join(shlex.quote(c) for c in cmd),
                  logger='current')
        t0 = time.time()
        rc = subprocess.run(cmd, cwd=os.getcwd()).returncode
        took.append(time.time() - t0)
        if rc != 0:
            failed.append(seed)
            print_log(f'{tag}: failed (exit code {rc}); going on with the next seed',
                      logger='current', level=30)
    return failed


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if '--' in argv:
        i = argv.index('--')
        argv, extra = argv[:i], argv[i + 1:]
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
    args = p.parse_args(argv)

    if args.cmd == 'launch':
        if not osp.isfile(args.config):
            p.error(f'config not found: {args.config}')
        root = args.root or default_root(args.config)
        try:
            cmds = seed_commands(args.config, args.seeds, root, args.launcher, args.gpus,
                                 args.partition, extra)
        except ValueError as e:
            p.error(str(e))
        if args.run:
            failed = run_seeds(cmds, args.seeds, root)
            if failed:
                print(f'failed seeds: {failed}; rerun the same command to retry them '
                      '(finished seeds are skipped)', file=sys.stderr)
                return 1
            print(f'# then: python tools/seeds.py aggregate {shlex.quote(root)}')
            return 0
        for cmd in cmds:
            print(' '.join(shlex.quote(c) for c in cmd), flush=True)
        print(f'# then: python tools/seeds.py aggregate {shlex.quote(root)}')
        return 0

    from lth_mm.fileio import atomic_write_json
    from lth_mm.report import load_summary
    runs = find_seed_runs(args.root)
    if not runs:
        p.error(f'no {SEED_DIR.format("<s>")}/lottery_summary.json under {args.root}: '
                'run `tools/seeds.py launch` first (or point at the folder holding them).')
    agg = aggregate_summaries({s: load_summary(d) for s, d in runs.items()})
    agg['work_dirs'] = {str(s): d for s, d in sorted(runs.items())}
    out = paths.seeds_summary(args.root)
    atomic_write_json(agg, out)
    print(format_table(agg, args.metrics))
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
