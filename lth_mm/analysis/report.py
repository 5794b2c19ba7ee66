# Copyright (c) lth_mm authors. All rights reserved.
"""One report of the paper's analyses from one or more lottery work_dirs.

:func:`build_report` writes ``report.md``, ``report.html`` (pictures embedded) and one PNG
per analysis whose data exist. Comparisons across rounds (size, frequency, difficulty,
TIDE, keypoint errors, convergence, early bird, per-layer) use the first work_dir that holds
the data; the sparsity-vs-metric figure uses every round of every work_dir (work_dirs whose
names differ only by a ``_seedN`` suffix are averaged: mean and standard deviation).
"""
import base64
import html
import math
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Sequence

import numpy as np

from . import plots
from .coco_breakdown import (difficulty_bins, frequency_bins, per_category_ap,
                             size_changes)
from .collect import gt_file, load_run, result_file, round_label
from .layers import per_group_stats, per_layer_stats
from ..report import headline_metrics

PAPER = {
    'sparsity': 'Paper (Table 4, R18 Mask R-CNN on COCO, direct pruning keeping 20%): 78.4% '
                'network sparsity, box AP 30.04 and mask AP 27.90 vs dense 29.91 / 27.64; '
                'keypoints 79.4% sparsity, AP 59.34 vs 58.59. Winning tickets up to 80% '
                'sparsity for every task and backbone.',
    'size': 'Paper (Fig. 4): small objects suffer most; AP_small drops by more than 17% at '
            '90% sparsity.',
    'frequency': 'Paper (Fig. 5): rare categories and categories the dense model finds hard '
                 'lose the most AP.',
    'tide': 'Paper (Figs 7-8, R50 Mask R-CNN, dense vs 20% ticket): errors of each type '
            'change little; the ticket keeps the dense error profile.',
    'keypoints': 'Paper (Fig. 9): dense and ticket keypoint errors are alike.',
    'convergence': 'Paper (Fig. 10 / appendix): tickets reach a lower validation loss sooner '
                   'than the dense model.',
    'early_bird': 'Seed paper: the mask of an early epoch already has IoU ~0.96 with the '
                  'final mask.',
    'per_layer': 'Paper (Fig. 2c): global pruning takes most weights from the large, late '
                 'layers (the backbone top and the box head fcs), few from the first layers.',
}
SIZES = ('AP_small', 'AP_medium', 'AP_large')


class _Doc:
    """Blocks rendered to Markdown and to HTML (pictures embedded as data URIs)."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.blocks: List[tuple] = []
        self.figures: List[str] = []

    def h(self, text, level=2):
        self.blocks.append(('h', level, text))

    def p(self, text):
        self.blocks.append(('p', text))

    def table(self, header, rows):
        if rows:
            self.blocks.append(('table', [str(h) for h in header],
                                [[_fmt(c) for c in r] for r in rows]))

    def img(self, path, caption):
        self.figures.append(path)
        self.blocks.append(('img', osp.basename(path), caption))

    def markdown(self) -> str:
        out = []
        for b in self.blocks:
            if b[0] == 'h':
                out.append('#' * b[1] + ' ' + b[2])
            elif b[0] == 'p':
                out.append(b[1])
            elif b[0] == 'table':
                out.append('| ' + ' | '.join(b[1]) + ' |')
                out.append('|' + '---|' * len(b[1]))
                out.extend('| ' + ' | '.join(r) + ' |' for r in b[2])
            else:
                out.append(f'![{b[2]}]({b[1]})')
            out.append('')
        return '\n'.join(out)

    def html(self) -> str:
        e = html.escape
        out = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>lth_mm report'
               '</title><style>body{font-family:sans-serif;max-width:1000px;margin:auto}'
               'table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;'
               'text-align:right}img{max-width:100%}</style></head><body>']
        for b in self.blocks:
            if b[0] == 'h':
                out.append(f'<h{b[1]}>{e(b[2])}</h{b[1]}>')
            elif b[0] == 'p':
                out.append(f'<p>{e(b[1])}</p>')
            elif b[0] == 'table':
                out.append('<table><tr>' + ''.join(f'<th>{e(h)}</th>' for h in b[1]) + '</tr>')
                out.extend('<tr>' + ''.join(f'<td>{e(c)}</td>' for c in r) + '</tr>'
                           for r in b[2])
                out.append('</table>')
            else:
                with open(osp.join(self.out_dir, b[1]), 'rb') as f:
                    data = base64.b64encode(f.read()).decode()
                out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{e(b[2])}">'
                           f'<figcaption>{e(b[2])}</figcaption></figure>')
        out.append('</body></html>')
        return '\n'.join(out)


def _fmt(v) -> str:
    if v is None:
        return '-'
    if isinstance(v, float):
        return '-' if math.isnan(v) else f'{v:.4g}' if abs(v) < 1e4 else f'{v:.0f}'
    return str(v)


def _pct(v) -> str:
    return '-' if v is None or (isinstance(v, float) and math.isnan(v)) else f'{v:+.1f}%'


# ---------------------------------------------------------------------- sections
def _rounds_section(doc: _Doc, runs: List[dict]) -> None:
    doc.h('Runs and sparsity of each round')
    for run in runs:
        keys = headline_metrics(run['rows'])
        doc.p(f"`{run['work_dir']}`")
        doc.table(['round', 'kind', 'keep ratio', 'prunable sparsity', 'network sparsity',
                   'iterations'] + keys,
                  [[r['round'], r['kind'], r['keep_ratio'],
                    f"{100 * r['prunable_sparsity']:.2f}%",
                    f"{100 * r['network_sparsity']:.2f}%", r.get('iters')] +
                   [r['metrics'].get(k) for k in keys] for r in run['rows']])


def _sparsity_section(doc: _Doc, runs: List[dict]) -> None:
    rows_all = [r for run in runs for r in run['rows']]
    keys = headline_metrics(rows_all, limit=1) or [  # else the first numeric metric
        k for r in rows_all for k, v in r['metrics'].items() if isinstance(v, (int, float))]
    if not keys:
        return
    metric = keys[0]
    points = defaultdict(lambda: defaultdict(list))  # label -> keep -> [(sparsity, value)]
    dense = []
    for run in runs:
        for r in run['rows']:
            v = r['metrics'].get(metric)
            if not isinstance(v, (int, float)):
                continue
            if r['kind'] == 'dense':
                dense.append(v)
                continue
            label = run['group'] if r['kind'] in ('ticket', 'given_ticket') else \
                f"{run['group']} {r['kind']}"
            points[label][round(r['keep_ratio'], 4)].append((100 * r['network_sparsity'], v))
    if not points:
        return
    groups, rows = {}, []
    for label, by_keep in points.items():
        g = dict(sparsity=[], mean=[], std=[], n=[])
        for keep in sorted(by_keep, reverse=True):
            sp, vals = zip(*by_keep[keep])
            g['sparsity'].append(float(np.mean(sp)))
            g['mean'].append(float(np.mean(vals)))
            g['std'].append(float(np.std(vals)))
            g['n'].append(len(vals))
            rows.append([label, keep, g['sparsity'][-1], g['mean'][-1], g['std'][-1],
                         len(vals)])
        groups[label] = g
    dense_ref = dict(mean=float(np.mean(dense)), std=float(np.std(dense))) if dense else None
    path = plots.sparsity_vs_metric(osp.join(doc.out_dir, 'sparsity_vs_metric.png'), groups,
                                    metric, dense_ref)
    doc.h('Sparsity vs metric')
    doc.img(path, f'{metric} vs network sparsity, every round of every work_dir')
    doc.table(['run', 'keep ratio', 'network sparsity (%)', f'{metric} mean', 'std', 'n'],
              ([['dense', 1.0, 0.0, dense_ref['mean'], dense_ref['std'], len(dense)]]
               if dense_ref else []) + rows)
    doc.p(PAPER['sparsity'])


def _dense_and_tickets(run: dict, need) -> tuple:
    dense, tickets = None, []
    for r, rd in sorted(run['rounds'].items()):
        if not need(rd):
            continue
        if rd['row']['kind'] == 'dense':
            dense = dense or rd
        else:
            tickets.append(rd)
    return dense, tickets


def _first_run(runs, need):
    for run in runs:
        dense, tickets = _dense_and_tickets(run, need)
        if dense is not None and tickets:
            return run, dense, tickets
    return None, None, None


def _size_section(doc: _Doc, runs: List[dict]) -> None:
    run, dense, tickets = _first_run(runs, lambda rd: 'coco_eval' in rd)
    if run is None:
        return
    series, rows = {}, []
    for t in tickets:
        for iou, ev in t['coco_eval'].items():
            d = dense['coco_eval'].get(iou)
            if d is None:
                continue
            ch = size_changes(d['stats'], ev['stats'])
            if not ch:
                continue
            series[f"{round_label(t['row'])} {iou}"] = [ch.get(s, float('nan')) for s in SIZES]
            rows.append([round_label(t['row']), iou] + [
                f"{d['stats'].get(s, -1):.3f} -> {ev['stats'].get(s, -1):.3f} "
                f"({_pct(ch.get(s))})" for s in SIZES])
    if not series:
        return
    path = plots.grouped_bars(osp.join(doc.out_dir, 'size.png'),
                              f'AP by object size vs dense ({run["name"]})',
                              ['small', 'medium', 'large'], series, 'AP change vs dense (%)',
                              reference=-17.0,
                              reference_label='paper: AP_small -17% at 90% sparsity',
                              xlabel='object size (COCO area ranges)')
    doc.h('Object size')
    doc.img(path, 'AP_small / AP_medium / AP_large, % change vs the dense round')
    doc.table(['round', 'iou type', 'AP_small dense -> ticket', 'AP_medium', 'AP_large'], rows)
    doc.p(PAPER['size'])


def _category_sections(doc: _Doc, runs: List[dict], n_bins: int) -> None:
    def has_cats(rd):
        ev = rd.get('coco_eval', {})
        return any(len(per_category_ap(e)) > 1 for e in ev.values())
    run, dense, tickets = _first_run(runs, has_cats)
    if run is None:
        return
    iou = next(t for t in ('bbox', 'segm', 'keypoints') if t in dense['coco_eval'])
    d_ap = per_category_ap(dense['coco_eval'][iou])
    counts = (dense.get('meta') or {}).get('train_instances')
    for kind in ('frequency', 'difficulty'):
        if kind == 'frequency' and not counts:
            continue
        series, rows, labels = {}, [], None
        for t in tickets:
            if iou not in t['coco_eval']:
                continue
            t_ap = per_category_ap(t['coco_eval'][iou])
            bins = frequency_bins(counts, d_ap, t_ap, n_bins) if kind == 'frequency' else \
                difficulty_bins(d_ap, t_ap, n_bins)
            if not bins:
                continue
            fmt = '{:.0f}' if kind == 'frequency' else '{:.2f}'
            labels = [f"{fmt.format(b['key_min'])}-{fmt.format(b['key_max'])}" for b in bins]
            series[round_label(t['row'])] = [b['change_pct'] for b in bins]
            rows.extend([round_label(t['row']), lab, len(b['categories']),
                         ', '.join(b['categories'][:6]) + (' ...' if len(b['categories']) > 6
                                                           else ''),
                         b['dense_AP'], b['ticket_AP'], _pct(b['change_pct'])]
                        for lab, b in zip(labels, bins))
        if not series:
            continue
        xlabel = ('training instances per category (bin range)' if kind == 'frequency' else
                  "dense model's per-category AP (bin range; hardest first)")
        path = plots.grouped_bars(osp.join(doc.out_dir, f'{kind}.png'),
                                  f'Per-category {iou} AP vs dense, by {kind} ({run["name"]})',
                                  labels, series, 'AP change of the bin vs dense (%)',
                                  xlabel=xlabel)
        doc.h('Category frequency' if kind == 'frequency' else 'Category difficulty')
        doc.img(path, f'per-category {iou} AP change vs dense, categories binned by {kind}')
        doc.table(['round', 'bin', '#categories', 'categories', 'dense AP', 'ticket AP',
                   'change'], rows)
        doc.p(PAPER['frequency'])


def _tide_section(doc: _Doc, runs: List[dict]) -> None:
    try:
        from .tide import MAIN_ERRORS, tide_errors
    except ImportError:  # tidecv is an optional dependency
        doc.p('TIDE skipped: `pip install tidecv` to get it.')
        return
    for mode in ('bbox', 'segm'):
        def need(rd, mode=mode):
            return gt_file(rd.get('meta'), mode) and \
                result_file(rd['work_dir'], rd['row']['round'], mode)
        run, dense, tickets = _first_run(runs, need)
        if run is None or not osp.isfile(gt_file(dense['meta'], mode)):
            continue
        res = {round_label(rd['row']): result_file(run['work_dir'], rd['row']['round'], mode)
               for rd in [dense] + tickets}
        errors = tide_errors(gt_file(dense['meta'], mode), res, mode)
        series = {name: [e[k] for k in MAIN_ERRORS] for name, e in errors.items()}
        path = plots.grouped_bars(osp.join(doc.out_dir, f'tide_{mode}.png'),
                                  f'TIDE {mode} errors ({run["name"]})', list(MAIN_ERRORS),
                                  series, 'dAP (AP50 points gained by the fix)',
                                  xlabel='error type')
        doc.h(f'TIDE errors ({mode})')
        doc.img(path, f'TIDE main errors, {mode}, dense vs tickets')
        doc.table(['run', 'AP50'] + list(MAIN_ERRORS),
                  [[n, e['AP50']] + [e[k] for k in MAIN_ERRORS] for n, e in errors.items()])
        doc.p(PAPER['tide'])


def _keypoint_section(doc: _Doc, runs: List[dict]) -> None:
    from .keypoint_errors import keypoint_error_analysis

    def need(rd):
        m = rd.get('meta') or {}
        return m.get('sigmas') and gt_file(m, 'keypoints') and \
            result_file(rd['work_dir'], rd['row']['round'], 'keypoints')
    run, dense, tickets = _first_run(runs, need)
    if run is None or not osp.isfile(gt_file(dense['meta'], 'keypoints')):
        return
    types = ('miss', 'swap', 'inversion', 'jitter', 'bkg_fp')
    series, rows = {}, []
    for rd in [dense] + tickets:
        m = rd['meta']
        flip = m.get('flip_indices') or list(range(len(m['sigmas'])))
        a = keypoint_error_analysis(gt_file(m, 'keypoints'),
                                    result_file(run['work_dir'], rd['row']['round'],
                                                'keypoints'), m['sigmas'], flip)
        name = round_label(rd['row'])
        series[name] = [100 * a['ap_gain'][t] for t in types]
        rows.append([name, 100 * a['ap']['original']] + [100 * a['ap_gain'][t] for t in types] +
                    [f"{100 * a['fractions'][t]:.1f}%" for t in
                     ('good', 'miss', 'swap', 'inversion', 'jitter')] + [a['bkg_fp']])
    path = plots.grouped_bars(osp.join(doc.out_dir, 'keypoint_errors.png'),
                              f'Keypoint errors, Ronchi & Perona ({run["name"]})',
                              ['Miss', 'Swap', 'Inversion', 'Jitter', 'Bkg FP'], series,
                              'AP gained by fixing the error (points)', xlabel='error type')
    doc.h('Keypoint errors')
    if not dense['meta'].get('flip_indices'):
        doc.p('Note: the dataset metadata give no left/right keypoint pairs (flip_indices), '
              'so no error is counted as an inversion.')
    doc.img(path, 'AP (OKS) gained by correcting each error type in turn, dense vs tickets')
    doc.table(['run', 'AP (%)', 'dAP miss', 'dAP swap', 'dAP inversion', 'dAP jitter',
               'dAP bkg FP', 'good kp', 'miss kp', 'swap kp', 'inversion kp', 'jitter kp',
               'bkg FP dets'], rows)
    doc.p(PAPER['keypoints'])


def _convergence_section(doc: _Doc, runs: List[dict]) -> None:
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


def _early_bird_section(doc: _Doc, runs: List[dict]) -> None:
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
        path = plots.lines(osp.join(doc.out_dir, 'early_bird.png'),
                           f"Round-0 mask at keep {eb['settings']['keep_ratio']:.2f} "
                           f"({run['name']})", curves, unit, 'mask IoU',
                           hlines=[(0.96, 'paper: IoU ~0.96 early')], vlines=vlines,
                           ylim=(min(0.0, min(v for _, ys in curves.values() for v in ys)),
                                 1.02))
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


def _per_layer_section(doc: _Doc, runs: List[dict]) -> None:
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


def build_report(work_dirs: Sequence[str], out_dir: str, n_bins: int = 4) -> Dict[str, object]:
    """Write ``report.md``, ``report.html`` and the figures the data support.

    Args:
        work_dirs: lottery work_dirs (each with ``lottery_summary.json``).
        out_dir: output directory (created).
        n_bins: number of category bins (frequency, difficulty).

    Returns:
        dict: ``markdown`` and ``html`` paths, ``figures`` (PNG paths).

    Raises:
        FileNotFoundError: a work_dir without a lottery summary (checked before any work).
    """
    runs = [load_run(w) for w in work_dirs]  # fails first, on a bad work_dir
    os.makedirs(out_dir, exist_ok=True)
    doc = _Doc(out_dir)
    doc.h('Lottery ticket analyses', 1)
    doc.p('Generated by `tools/analysis/report.py` from: ' +
          ', '.join(f"`{r['work_dir']}`" for r in runs) + '. Percent changes are relative '
          'to the dense round (round 0) of the same work_dir.')
    _rounds_section(doc, runs)
    _sparsity_section(doc, runs)
    _size_section(doc, runs)
    _category_sections(doc, runs, n_bins)
    _tide_section(doc, runs)
    _keypoint_section(doc, runs)
    _convergence_section(doc, runs)
    _early_bird_section(doc, runs)
    _per_layer_section(doc, runs)
    from ..fileio import atomic_write_text
    md, page = osp.join(out_dir, 'report.md'), osp.join(out_dir, 'report.html')
    atomic_write_text(doc.markdown(), md)
    atomic_write_text(doc.html(), page)
    return dict(markdown=md, html=page, figures=doc.figures)
