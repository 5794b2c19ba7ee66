# Copyright (c) lth_mm authors. All rights reserved.
"""Accuracy vs latency of dense, unstructured and structured tickets (docs/structured.md).

Reads finished lottery experiments (``lottery_summary.json``, one per seed and criterion)
and a :mod:`.ticket_speed` result of the same model, groups the rounds into variants
(dense; unstructured keep; channel keep by criterion; the random-channel control), and
writes a markdown table (mean over seeds, min-max, the project's tie rule against dense)
and the accuracy-vs-latency figure (latency on the x-axis).
"""
import json
import os.path as osp
import statistics
from collections import defaultdict
from typing import Dict, List, Sequence

from ..paths import SUMMARY_JSON

METRICS = ('coco/bbox_mAP', 'coco/segm_mAP')
TIE = 0.01  # the project's tie rule: within the seeds' range or under 0.01 mAP


def _criterion(settings: dict) -> str:
    c = settings.get('criterion', 'global_magnitude')
    return c if isinstance(c, str) else c.get('type', '?')


CONTROL_LABELS = {'random_ticket': 'random', 'random_reinit': 'random reinit'}


def variant_of(row: dict, criterion: str) -> str:
    """The variant a summary row belongs to (its table row and latency).

    Args:
        row: a row of ``lottery_summary.json``.
        criterion: the experiment's criterion name.

    Returns:
        str: e.g. ``'dense'``, ``'channels keep 0.5 (magnitude)'``,
        ``'unstructured keep 0.2 (random)'``.
    """
    from ..pruning import is_structured
    kind = row['kind']
    if kind == 'dense':
        return 'dense'
    name = criterion.replace('channel_', '')
    if kind == 'given_ticket':  # e.g. tools/prune.py's one-shot ticket, trained once:
        # its row has no planned keep ratio; its sparsity finds its latency row
        kind_name = 'channels' if is_structured(criterion) else 'unstructured'
        return f"{kind_name} {100 * row['network_sparsity']:.1f}% sparse ({name}, given)"
    keep = row.get('planned_keep_ratio') or row.get('keep_ratio')
    base = (f'channels keep {keep:.2g}' if is_structured(criterion) else
            f'unstructured keep {keep:.2g}')
    if kind == 'ticket':
        return f'{base} ({name})' if is_structured(criterion) else base
    return f'{base} ({CONTROL_LABELS.get(kind, kind)})'


def collect(work_dirs: Sequence[str]) -> Dict[str, dict]:
    """Variant -> per-metric values (one a seed) and network sparsity."""
    out = defaultdict(lambda: dict(values=defaultdict(list), sparsity=[], seeds=set()))
    for d in work_dirs:
        with open(osp.join(d, SUMMARY_JSON)) as f:
            summary = json.load(f)
        criterion = _criterion(summary.get('settings', {}))
        for row in summary['rounds']:
            if row.get('metrics') is None:
                continue
            v = out[variant_of(row, criterion)]
            key = (summary.get('seed'), d) if row['kind'] != 'dense' else summary.get('seed')
            if key in v['seeds']:  # the same seed's dense round of another criterion
                continue
            v['seeds'].add(key)
            v['sparsity'].append(row.get('network_sparsity', 0.0))
            for m in METRICS:
                if m in row['metrics']:
                    v['values'][m].append(row['metrics'][m])
    return out


def _latency(speed: dict, variant: str, sparsity: float = None):
    """The speed row of a variant: by name, else (given tickets) by network sparsity."""
    if sparsity is not None and ' sparse (' in variant:
        kind = variant.split()[0]
        return next((r for r in speed['rows'] if r['name'].startswith(kind) and
                     abs(r['sparsity'] - sparsity) < 0.005), None)
    base = variant.split(' (')[0]
    for r in speed['rows']:
        if r['name'] == base or (base.startswith('channels') and r['name'].startswith(
                'channels') and abs(float(r['name'].split()[-1]) - float(base.split()[-1]))
                < 0.02):
            return r
    return None


def table(variants: Dict[str, dict], speed: dict) -> str:
    """The markdown accuracy table with latency, and the tie verdict against dense."""
    dense = variants['dense']['values']
    lines = ['| model | network sparsity | seeds | bbox mAP (min-max) | segm mAP (min-max) | '
             'latency s | vs dense (bbox) |', '|---|---|---|---|---|---|---|']
    for name, v in sorted(variants.items(), key=lambda kv: (kv[0] != 'dense',
                                                            statistics.mean(kv[1]['sparsity']))):
        cells = []
        for m in METRICS:
            vals = v['values'].get(m, [])
            cells.append(f'{statistics.mean(vals):.3f} ({min(vals):.3f}-{max(vals):.3f})'
                         if vals else '-')
        lat = _latency(speed, name, statistics.mean(v['sparsity']))
        verdict = '' if name == 'dense' else _verdict(v['values'][METRICS[0]],
                                                      dense[METRICS[0]])
        lines.append(f"| {name} | {100 * statistics.mean(v['sparsity']):.1f}% | "
                     f"{len(v['values'][METRICS[0]])} | {cells[0]} | {cells[1]} | "
                     f"{lat['median']:.3f} | {verdict} |" if lat else
                     f"| {name} | {100 * statistics.mean(v['sparsity']):.1f}% | "
                     f"{len(v['values'][METRICS[0]])} | {cells[0]} | {cells[1]} | - | "
                     f'{verdict} |')
    return '\n'.join(lines)


def _verdict(values: List[float], dense: List[float]) -> str:
    d = statistics.mean(values) - statistics.mean(dense)
    spread = max(max(values) - min(values), max(dense) - min(dense))
    if abs(d) < TIE or abs(d) <= spread:
        return f'tie ({d:+.3f})'
    return f'{"better" if d > 0 else "worse"} ({d:+.3f})'


def figure(variants: Dict[str, dict], speed: dict, path: str) -> List[str]:
    """Accuracy (bbox mAP, mean and seeds' range) against latency; PNG and PDF."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, v in variants.items():
        lat = _latency(speed, name, statistics.mean(v['sparsity']))
        vals = v['values'].get(METRICS[0], [])
        if not lat or not vals:
            continue
        mean = 100 * statistics.mean(vals)
        err = [[mean - 100 * min(vals)], [100 * max(vals) - mean]]
        marker = 'o' if name == 'dense' else ('s' if name.startswith('channels') else '^')
        ax.errorbar(lat['median'], mean, yerr=err, fmt=marker, capsize=3,
                    label=f"{name} ({100 * statistics.mean(v['sparsity']):.0f}% sparse)")
    ax.set_xlabel(f"latency per image, s (median; {speed['config'].split('/')[-1]}, "
                  f"{speed['size'][0]}x{speed['size'][1]})")
    ax.set_ylabel('bbox mAP (%)')
    ax.set_title('Structured vs unstructured tickets: accuracy against latency')
    ax.legend(fontsize=7, loc='center left', bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    out = []
    for ext in ('png', 'pdf'):
        fig.savefig(f'{path}.{ext}', dpi=150, bbox_inches='tight')
        out.append(f'{path}.{ext}')
    plt.close(fig)
    return out
