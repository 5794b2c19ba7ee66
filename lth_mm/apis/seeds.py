# Copyright (c) lth_mm authors. All rights reserved.
"""What ``tools/seeds.py`` does: one training per seed, and the mean / spread of their rounds.

``launch`` makes (and prints or runs) one tools/train.py command per seed, each in
``<root>/seed_<s>/`` with ``randomness.seed`` and ``lottery.seed`` set to the seed, for
three launchers (local, ``tools/dist_train.sh``, Slurm's ``srun``). ``aggregate`` reads
every ``seed_*/lottery_summary.json`` under the root, groups the rows by (round, kind),
writes ``<root>/seeds_summary.json`` (per row, every numeric metric and sparsity with its
per-seed values, mean, sample standard deviation, min, max and n; a COCO -1, "nothing to
evaluate", is left out, never averaged) and returns the table (AP and sparsities in %).
"""
import glob
import math
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

from .. import paths

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


def launch_seeds(config: str, seeds: Sequence[int], root: Optional[str] = None,
                 launcher: str = 'local', gpus: int = 1, partition: Optional[str] = None,
                 extra: Sequence[str] = (), run: bool = False) -> int:
    """``tools/seeds.py launch``: print the seeds' commands, or run them (``run``).

    Args:
        config: config path.
        seeds: the seeds.
        root: parent of the per-seed work dirs (default: ``work_dirs/<config name>``).
        launcher, gpus, partition, extra: see :func:`seed_commands`.
        run: run the commands one after the other instead of printing them.

    Returns:
        int: the exit code (1 when a seed failed).

    Raises:
        ValueError: see :func:`seed_commands`.
    """
    root = root or default_root(config)
    cmds = seed_commands(config, seeds, root, launcher, gpus, partition, extra)
    then = f'# then: python tools/seeds.py aggregate {shlex.quote(root)}'
    if run:
        failed = run_seeds(cmds, seeds, root)
        if failed:
            print(f'failed seeds: {failed}; rerun the same command to retry them '
                  '(finished seeds are skipped)', file=sys.stderr)
            return 1
        print(then)
        return 0
    for cmd in cmds:
        print(' '.join(shlex.quote(c) for c in cmd), flush=True)
    print(then)
    return 0


def aggregate_seed_runs(root: str, metrics: Optional[Sequence[str]] = None) -> str:
    """``tools/seeds.py aggregate``: write ``<root>/seeds_summary.json``, return the table.

    Args:
        root: the folder holding the ``seed_<s>/`` work dirs.
        metrics: columns of the table (default: every metric).

    Returns:
        str: the Markdown table and the path written.

    Raises:
        FileNotFoundError: no finished seed run under ``root``.
    """
    from ..fileio import atomic_write_json
    from ..report import load_summary
    runs = find_seed_runs(root)
    if not runs:
        raise FileNotFoundError(
            f'no {SEED_DIR.format("<s>")}/{paths.SUMMARY_JSON} under {root}: run '
            '`tools/seeds.py launch` first (or point at the folder holding them).')
    agg = aggregate_summaries({s: load_summary(d) for s, d in runs.items()})
    agg['work_dirs'] = {str(s): d for s, d in sorted(runs.items())}
    out = paths.seeds_summary(root)
    atomic_write_json(agg, out)
    return f'{format_table(agg, metrics)}\nwrote {out}'
