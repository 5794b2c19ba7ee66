# Copyright (c) lth_mm authors. All rights reserved.
"""The paper in miniature: the report. A markdown table with mean and spread over the
seeds, the sparsity-vs-mAP figure, one paragraph per paper claim (from
``lth_mm/data/paper.json``) with the verdict the miniature supports, and a json with
every number.
"""
import json
import os.path as osp

from lth_mm import paths
from lth_mm.fileio import atomic_write_json, atomic_write_text
from lth_mm.paper import miniature_claims

from .miniature import CLS

METRICS = ('coco/bbox_mAP', 'coco/segm_mAP')

# (row label, run, summary row index, keep ratio)
ROWS = [
    ('dense', 'main', 0, 1.0),
    ('ticket keep 50, late reset', 'keep50', 0, 0.5),
    ('ticket keep 20, late reset', 'main', 1, 0.2),
    ('ticket keep 10, late reset', 'keep10', 0, 0.1),
    ('random ticket keep 20', 'main', 2, 0.2),
    ('random reinit keep 20', 'main', 3, 0.2),
    ('ticket keep 20, reset to init', 'init20', 0, 0.2),
    ('iterative round 1 (keep 44.7)', 'iter3', 1, 0.447),
    ('iterative round 2 (keep 20)', 'iter3', 2, 0.2),
    ('direct backbone ticket (keep 20 of the backbone), late reset', 'bb20', 0, 0.2),
    ('transferred classifier ticket (keep 20 of the backbone)', 'transfer20', 0, 0.2),
]


def collect(dirs_by_seed):
    """Per table row: the network sparsity and each metric over the seeds.

    Args:
        dirs_by_seed (dict): seed -> {run name: work_dir}.

    Returns:
        list[dict]: label, keep, network_sparsity (mean), values (metric -> per seed).
    """
    table = []
    for label, run, index, keep in ROWS:
        if any(run not in dirs for dirs in dirs_by_seed.values()):
            continue
        values = {m: [] for m in METRICS}
        sparsity = []
        for dirs in dirs_by_seed.values():
            row = json.load(open(paths.summary_json(dirs[run])))['rounds'][index]
            sparsity.append(row.get('network_sparsity') or 0.0)
            for m in METRICS:
                values[m].append(float(row['metrics'].get(m, float('nan'))))
        table.append(dict(label=label, keep=keep, network_sparsity=sum(sparsity) / len(sparsity),
                          values=values))
    return table


def _stats(xs):
    mean = sum(xs) / len(xs)
    return mean, max(xs) - min(xs)


def _cell(xs):
    mean, spread = _stats(xs)
    return f'{mean:.3f} ± {spread / 2:.3f}'


def claims(table):
    """One verdict per paper claim whose rows were run, from the bbox mAP means and spreads.

    Returns:
        list[tuple]: (claim, verdict, the comparison in words).
    """
    by = {r['label']: r['values']['coco/bbox_mAP'] for r in table}
    out = []
    for claim, a, b, tie_verdict in miniature_claims():
        if a not in by or b not in by:
            continue
        (ma, sa), (mb, sb) = _stats(by[a]), _stats(by[b])
        # Differences inside the seeds' spread (or under 0.01 mAP) cannot be told apart.
        margin = max(0.01, sa, sb)
        text = f'{a} {ma:.3f} vs {b} {mb:.3f}'
        if abs(ma - mb) <= margin:
            out.append((claim, tie_verdict, f'{text}: within the spread ({margin:.3f})'))
        else:
            out.append((claim, 'agrees' if ma > mb else 'disagrees', text))
    return out


def figure(table, path):
    """The bbox mAP vs network sparsity plot of the table, written to ``path``."""
    import matplotlib
    matplotlib.use('Agg')  # files only, no display
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    line = [r for r in table if r['label'].startswith(('dense', 'ticket keep')) and
            'init' not in r['label']]
    line.sort(key=lambda r: r['network_sparsity'])
    xs = [100 * r['network_sparsity'] for r in line]
    ys = [_stats(r['values']['coco/bbox_mAP'])[0] for r in line]
    err = [_stats(r['values']['coco/bbox_mAP'])[1] / 2 for r in line]
    ax.errorbar(xs, ys, yerr=err, marker='o', capsize=3, label='ticket, late reset')
    for r, marker in zip([r for r in table if r not in line], 'sv^Dx*P'):
        m, s = _stats(r['values']['coco/bbox_mAP'])
        ax.errorbar([100 * r['network_sparsity']], [m], yerr=[s / 2], marker=marker,
                    capsize=3, linestyle='none', label=r['label'])
    ax.set_xlabel('network sparsity (%)')
    ax.set_ylabel('bbox mAP (mean of seeds, bar = half range)')
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _classifier_lines(dirs_by_seed, config):
    """The paragraph on the classifier behind the transferred ticket (or its absence)."""
    cls = [json.load(open(paths.summary_json(d['cls'])))['rounds']
           for d in dirs_by_seed.values() if 'cls' in d]
    if not cls:
        return ['**The transfer claim (Sec. 5)** is not measured in this run: the transfer '
                'runs derive from the default config and were left out for '
                f'`{config}`.', '']
    top1 = [[r[i]['metrics'].get('accuracy/top1', float('nan')) for r in cls]
            for i in (0, 1)]
    return ['The classifier behind the transferred ticket (`' + CLS + '`, mmpretrain, '
            'synthetic crops; top-1 %, mean ± half range): dense '
            f'{_stats(top1[0])[0]:.1f} ± {_stats(top1[0])[1] / 2:.1f}, its ticket at '
            f'keep 20 {_stats(top1[1])[0]:.1f} ± {_stats(top1[1])[1] / 2:.1f}. The '
            'transferred and the direct backbone tickets prune only the backbone '
            '(80% of its convs); FPN and heads stay dense, hence their lower network '
            'sparsity. The transferred ticket starts from the classifier\'s values; '
            'the direct one from the late-reset weights of a detector trained from '
            'scratch.', '']


def write_report(table, dirs_by_seed, minutes, config, out, json_path, smoke=False,
                 command='python tools/benchmark/miniature.py'):
    """Write the markdown report (and its figure next to it) and the json of every number.

    Args:
        table (list[dict]): :func:`collect`'s rows.
        dirs_by_seed (dict): seed -> {run name: work_dir}.
        minutes (float): the time this invocation took.
        config (str): the lottery config of the runs.
        out (str): the markdown file.
        json_path (str): the json file.
        smoke (bool): the runs were the plumbing check (the report says so).
        command (str): the command line that produced it.

    Returns:
        str: ``out``.
    """
    fig_name = osp.splitext(osp.basename(out))[0] + '_sparsity_map.png'
    figure(table, osp.join(osp.dirname(out), fig_name))
    seeds = list(dirs_by_seed)
    lines = ['# The paper in miniature', '',
             f'Produced by `{command}` (this invocation {minutes:.0f} min; runs '
             'reused from an earlier invocation are not re-timed) '
             f'(config `{config}`, seeds {seeds}). Mean ± half the range over the '
             'seeds; sparsity is the share of all parameters that are zero (the paper\'s '
             'network sparsity).', '']
    if smoke:
        lines += ['**SMOKE RUN**: 8 training images, 1 epoch, 4 val images. It shows that '
                  'the tool runs end to end; the numbers below mean nothing and the '
                  'verdicts are not evidence. Run the tool without `--smoke` for the '
                  'real miniature.', '']
    lines += ['| experiment | network sparsity | bbox mAP | segm mAP |',
              '|---|---|---|---|']
    for r in table:
        lines.append(f"| {r['label']} | {100 * r['network_sparsity']:.1f}% | "
                     f"{_cell(r['values']['coco/bbox_mAP'])} | "
                     f"{_cell(r['values']['coco/segm_mAP'])} |")
    lines += ['', f'![bbox mAP vs network sparsity]({fig_name})', '', '## The claims', '']
    for claim, verdict, text in claims(table):
        lines += [f'**{claim}** This miniature **{verdict}**: {text.strip()} (bbox mAP, '
                  f'{len(seeds)} seed(s); a difference within the seeds\' range or under '
                  '0.01 counts as a tie).', '']
    lines += _classifier_lines(dirs_by_seed, config)
    atomic_write_text('\n'.join(lines), out)
    atomic_write_json(dict(config=config, seeds=seeds, smoke=smoke, minutes=minutes,
                           table=table, claims=claims(table)), json_path)
    return out
