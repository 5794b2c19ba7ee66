# Copyright (c) lth_mm authors. All rights reserved.
"""Report sections on the runs themselves: rounds and sparsity, metric vs sparsity (seed
groups averaged), convergence, early-bird tickets and per-layer pruning."""
import os.path as osp
from collections import defaultdict
from typing import List

import numpy as np

from . import plots
from .collect import round_label
from .doc import PAPER, Doc, mean_std
from .layers import per_group_stats, per_layer_stats
from ..report import headline_metrics, main_metrics


def _metric_cell(key, v):
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return None
    if v < 0:
        return 'n/a'  # COCO's -1: nothing to evaluate
    return f'{plots.metric_scale(key) * v:.2f}'


def _metric_head(key):
    return plots.metric_label(key) + (' (%)' if plots.metric_scale(key) == 100 else '')


def rounds_section(doc: Doc, runs: List[dict]) -> None:
    """One table per run: every round's kind, sparsities and main metrics."""
    doc.h('Runs and sparsity of each round')
    for run in runs:
        keys = headline_metrics(run['rows'])
        doc.p(f"`{run['work_dir']}`")
        doc.table(['round', 'kind', 'keep ratio', 'prunable sparsity', 'network sparsity',
                   'iterations'] + [_metric_head(k) for k in keys],
                  [[r['round'], r['kind'], r['keep_ratio'],
                    f"{100 * r['prunable_sparsity']:.2f}%",
                    f"{100 * r['network_sparsity']:.2f}%", r.get('iters')] +
                   [_metric_cell(k, r['metrics'].get(k)) for k in keys] for r in run['rows']])


def sparsity_section(doc: Doc, runs: List[dict]) -> None:
    """The task's main metrics vs network sparsity; seeds of a group averaged (mean and
    sample std); each group against its own dense rounds."""
    rows_all = [r for run in runs for r in run['rows']]
    metrics = main_metrics(rows_all) or [  # else the first numeric metric (e.g. accuracy)
        k for r in rows_all for k, v in r['metrics'].items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)][:1]
    if not metrics:
        return
    panels, dense, table, dense_rows = {}, {}, [], []
    for metric in metrics:
        scale = plots.metric_scale(metric)
        points = defaultdict(lambda: defaultdict(list))  # label -> keep -> [(sp, v)]
        dense_vals = defaultdict(list)  # group -> dense values
        for run in runs:
            for r in run['rows']:
                v = r['metrics'].get(metric)
                if not isinstance(v, (int, float)) or v < 0:  # -1: COCO had nothing
                    continue
                if r['kind'] == 'dense':
                    dense_vals[run['group']].append(scale * v)
                    continue
                label = run['group'] if r['kind'] in ('ticket', 'given_ticket') else \
                    f"{run['group']} {r['kind']}"
                points[label][round(r['keep_ratio'], 4)].append(
                    (100 * r['network_sparsity'], scale * v))
        panels[metric] = {}
        for label, by_keep in points.items():
            g = dict(sparsity=[], mean=[], std=[], n=[])
            for keep in sorted(by_keep, reverse=True):
                sp, vals = zip(*by_keep[keep])
                m, s = mean_std(vals)
                g['sparsity'].append(float(np.mean(sp)))
                g['mean'].append(m)
                g['std'].append(s)
                g['n'].append(len(vals))
                table.append([label, plots.metric_label(metric), keep, f'{g["sparsity"][-1]:.1f}',
                              f'{m:.2f}', f'{s:.2f}', len(vals)])
            panels[metric][label] = g
        dense[metric] = {}
        for group, vals in dense_vals.items():
            m, s = mean_std(vals)
            dense[metric][group] = dict(mean=m, std=s, n=len(vals))
            dense_rows.append([f'{group} dense', plots.metric_label(metric), 1.0, '0.0',
                               f'{m:.2f}', f'{s:.2f}', len(vals)])
    if not any(panels.values()) and not any(dense.values()):
        return
    path = plots.sparsity_vs_metric(osp.join(doc.out_dir, 'sparsity_vs_metric.png'), panels,
                                    dense)
    names = ' and '.join(plots.metric_label(m) for m in metrics)
    doc.h('Sparsity vs metric')
    doc.img(path, f'{names} vs network sparsity, every round of every work_dir (seeds of '
                  'one group averaged; bars: sample standard deviation)')
    doc.table(['run', 'metric', 'keep ratio', 'network sparsity (%)', 'mean', 'std', 'n'],
              dense_rows + table)
    doc.p(PAPER['sparsity'] + ' Seeds: work_dirs `X_seedN` or `root/seed_N` (tools/seeds.py) '
          'form one group.')


def convergence_section(doc: Doc, runs: List[dict]) -> None:
    """Validation loss of every round of the first run that logged it (Fig. 10)."""
    run = next((r for r in runs if any('val_loss' in rd for rd in r['rounds'].values())), None)
    if run is None:
        return
    curves, rows, unit = {}, [], 'epoch'
    for r, rd in sorted(run['rounds'].items()):
        vl = rd.get('val_loss')
        if not vl or not vl.get('records'):
            continue
        unit = 'epoch' if vl.get('by_epoch', True) else 'iter'
        xs = [rec[unit] for rec in vl['records']]
        ys = [rec['loss'] for rec in vl['records']]
        curves[round_label(rd['row'])] = (xs, ys)
        best = int(np.argmin(ys))
        rows.append([round_label(rd['row']), ys[0], ys[-1], ys[best], xs[best]])
    path = plots.lines(osp.join(doc.out_dir, 'convergence.png'),
                       f'Validation loss per {unit} ({run["name"]})', curves,
                       'epoch' if unit == 'epoch' else 'iteration',
                       'validation loss (sum of loss terms)')
    doc.h('Convergence')
    doc.img(path, 'validation loss of every round')
    doc.table(['round', 'first', 'last', 'min', f'{unit} of min'], rows)
    doc.p(PAPER['convergence'])


def early_bird_section(doc: Doc, runs: List[dict]) -> None:
    """Round 0's mask IoU with the final mask over training (early-bird tickets)."""
    run = next((r for r in runs if r.get('early_bird')), None)
    if run is None:
        return
    eb = run['early_bird']
    recs = [r for r in eb.get('records', []) if r.get('iou_final') is not None]
    fin = eb.get('final') or {}
    unit = eb['settings'].get('unit', 'epoch')
    doc.h('Early-bird tickets')
    if recs:
        vlines = []
        if fin.get('early_bird_step') is not None:
            vlines.append((fin['early_bird_step'],
                           f"You et al. rule (eps {eb['settings']['eps']})"))
        if fin.get('stable_step') is not None:
            vlines.append((fin['stable_step'], f"IoU >= {fin.get('iou_threshold', 0.95)} "
                           'from here'))
        curves = {'IoU with the final mask': ([r['step'] for r in recs],
                                              [r['iou_final'] for r in recs])}
        prev = [r for r in recs if r.get('iou_prev') is not None]
        if prev:
            curves['IoU with the previous mask'] = ([r['step'] for r in prev],
                                                    [r['iou_prev'] for r in prev])
        # the y-axis follows the curve (from 0 it would be a flat line near 1)
        low = min([v for _, ys in curves.values() for v in ys] + [0.96])
        path = plots.lines(osp.join(doc.out_dir, 'early_bird.png'),
                           f"Round-0 mask at keep {eb['settings']['keep_ratio']:.2f}: IoU "
                           f"over training ({run['name']})", curves, unit, 'mask IoU',
                           hlines=[(0.96, 'You et al. 2020: IoU ~0.96 early')],
                           vlines=vlines, ylim=(low - 0.1 * (1.0 - low) - 0.005, 1.005))
        doc.img(path, 'IoU of the mask pruning would produce at each point of round 0 with '
                      'the final one')
    doc.table([unit, 'IoU with final', 'IoU with previous', 'max distance (FIFO)',
               'rule holds'],
              [[r['step'], r.get('iou_final'), r.get('iou_prev'), r.get('max_distance'),
                r.get('converged')] for r in eb.get('records', [])])
    if fin:
        ebs, st = fin.get('early_bird_step'), fin.get('stable_step')
        doc.p(f"Round 0 planned {fin['planned']} {unit}s and trained {fin['trained']}"
              f"{' (stopped early at the early-bird ticket)' if fin.get('stopped_early') else ''}."
              f" You et al.'s rule (distance <= {eb['settings']['eps']} over "
              f"{eb['settings']['window']} masks) "
              + (f"held at {unit} {ebs}: {100 * fin['early_bird_cost_fraction']:.0f}% of the "
                 'dense cost.' if ebs is not None else 'never held.')
              + (f" The mask's IoU with the final mask stays >= {fin['iou_threshold']} from "
                 f"{unit} {st} ({100 * fin['stable_cost_fraction']:.0f}% of the dense cost)."
                 if st is not None else ''))
    doc.p(PAPER['early_bird'])


def per_layer_section(doc: Doc, runs: List[dict]) -> None:
    """% pruned per masked layer of the last ticket of the first run with one (Fig. 2c)."""
    from ..pruning import load_ticket
    for run in runs:
        cands = [rd for _, rd in sorted(run['rounds'].items())
                 if rd['row']['kind'] == 'ticket' and 'ticket' in rd]
        cands = cands or [rd for _, rd in sorted(run['rounds'].items())
                          if rd['row']['kind'] != 'dense' and 'ticket' in rd]
        if not cands:
            continue
        rd = cands[-1]
        masks = load_ticket(rd['ticket']).masks
        rows = per_layer_stats(masks)
        overall = 100 * masks.prunable_sparsity()
        path = plots.per_layer(osp.join(doc.out_dir, 'per_layer.png'), rows, overall,
                               f"% pruned per layer, {round_label(rd['row'])} ({run['name']})")
        doc.h('Per-layer pruning')
        doc.img(path, 'share of each masked layer pruned under the ticket')
        groups = per_group_stats(rows)
        doc.table(['module group', 'weights', 'kept', 'pruned'],
                  [[g, v['numel'], v['kept'], f"{v['pruned_pct']:.1f}%"]
                   for g, v in groups.items()])
        ordered = sorted(rows, key=lambda r: -r['pruned_pct'])
        doc.table(['most / least pruned layers', 'weights', 'pruned'],
                  [[r['name'], r['numel'], f"{r['pruned_pct']:.1f}%"]
                   for r in ordered[:5] + ordered[max(5, len(ordered) - 5):]])
        doc.p(PAPER['per_layer'])
        return
