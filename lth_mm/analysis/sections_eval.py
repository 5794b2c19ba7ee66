# Copyright (c) lth_mm authors. All rights reserved.
"""Report sections on the COCO results of each round: object size, category frequency and
difficulty, TIDE errors and keypoint errors (dense vs tickets of one work_dir)."""
import math
import os.path as osp
from typing import List

from . import plots
from .coco_breakdown import difficulty_bins, frequency_bins, per_category_ap, size_changes
from .collect import gt_file, result_file, round_label
from .doc import PAPER, Doc, ap_pct, first_run, pct

SIZES = ('AP_small', 'AP_medium', 'AP_large')
IOU_NAMES = {'bbox': 'box', 'segm': 'mask', 'keypoints': 'keypoint'}


def size_section(doc: Doc, runs: List[dict]) -> None:
    """AP_small / medium / large of each ticket, % change vs dense (Fig. 4)."""
    run, dense, tickets = first_run(runs, lambda rd: 'coco_eval' in rd)
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
            series[f"{round_label(t['row'])}, {IOU_NAMES.get(iou, iou)} AP"] = [
                ch.get(s, float('nan')) for s in SIZES]
            rows.append([round_label(t['row']), IOU_NAMES.get(iou, iou)] + [
                _size_cell(d['stats'].get(s, -1), ev['stats'].get(s, -1), ch.get(s))
                for s in SIZES])
    # sizes without objects (COCO's -1 on both sides) are left out, not drawn empty
    keep = [i for i in range(len(SIZES))
            if any(not math.isnan(v[i]) for v in series.values())]
    if not keep:
        return
    labels = ['small (< 32²)', 'medium', 'large (> 96²)']
    refs = [(keep.index(0), -17.0, 'paper: AP_small −17% at 90% sparsity')] if 0 in keep \
        else []
    path = plots.grouped_bars(osp.join(doc.out_dir, 'size.png'),
                              f'AP by object size, tickets vs dense ({run["name"]})',
                              [labels[i] for i in keep],
                              {k: [v[i] for i in keep] for k, v in series.items()},
                              'AP change vs dense (%)', references=refs,
                              xlabel='object size (COCO area ranges, px²)')
    doc.h('Object size')
    doc.img(path, 'AP_small / AP_medium / AP_large, % change vs the dense round')
    doc.table(['round', 'AP', 'AP_small (%) dense -> ticket', 'AP_medium (%)',
               'AP_large (%)'], rows)
    doc.p(PAPER['size'] + ' n/a: no objects of that size.')


def _size_cell(dense: float, ticket: float, change) -> str:
    if dense < 0 and ticket < 0:
        return 'n/a'  # no objects of that size
    return f'{ap_pct(dense)} -> {ap_pct(ticket)}' + (f' ({pct(change)})' if change is not None
                                                     else '')


def _bin_label(b: dict, kind: str) -> str:
    if kind == 'frequency':
        lo, hi = f"{b['key_min']:.0f}", f"{b['key_max']:.0f}"
    else:
        lo, hi = f"{100 * b['key_min']:.0f}%", f"{100 * b['key_max']:.0f}%"
    n = len(b['categories'])
    rng = lo if lo == hi else f'{lo}–{hi}'
    return f"{rng}\n({n} {'category' if n == 1 else 'categories'})"


def category_sections(doc: Doc, runs: List[dict], n_bins: int) -> None:
    """Per-category AP change vs dense, categories binned by frequency / difficulty."""
    def has_cats(rd):
        ev = rd.get('coco_eval', {})
        return any(len(per_category_ap(e)) > 1 for e in ev.values())
    run, dense, tickets = first_run(runs, has_cats)
    if run is None:
        return
    iou = next(t for t in ('bbox', 'segm', 'keypoints') if t in dense['coco_eval'])
    name = IOU_NAMES.get(iou, iou)
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
            labels = [_bin_label(b, kind) for b in bins]
            series[round_label(t['row'])] = [b['change_pct'] for b in bins]
            rows.extend([round_label(t['row']), lab.replace('\n', ' '),
                         ', '.join(b['categories'][:6]) + (' ...' if len(b['categories']) > 6
                                                           else ''),
                         ap_pct(b['dense_AP']), ap_pct(b['ticket_AP']), pct(b['change_pct'])]
                        for lab, b in zip(labels, bins))
        if not series:
            continue
        xlabel = ('training instances per category (bins of about equal size)'
                  if kind == 'frequency' else
                  f"dense model's per-category {name} AP (hardest first)")
        path = plots.grouped_bars(osp.join(doc.out_dir, f'{kind}.png'),
                                  f'Per-category {name} AP vs dense, by category {kind} '
                                  f'({run["name"]})', labels, series,
                                  'AP change of the bin vs dense (%)', xlabel=xlabel)
        doc.h('Category frequency' if kind == 'frequency' else 'Category difficulty')
        doc.img(path, f'per-category {name} AP change vs dense, categories binned by {kind}')
        doc.table(['round', 'bin', 'categories', f'dense {name} AP (%)',
                   f'ticket {name} AP (%)', 'change'], rows)
        doc.p(PAPER['frequency'] + f' Bins: at most {n_bins}, at least two categories each '
              'where there are enough, categories with equal values in one bin.')


def tide_section(doc: Doc, runs: List[dict]) -> None:
    """TIDE's main errors (the paper's five drawn, Both in the table), box and mask."""
    try:
        from .tide import ALL_ERRORS, MAIN_ERRORS, PAPER_NAMES, tide_errors
    except ImportError:  # tidecv is an optional dependency
        doc.p('TIDE skipped: `pip install tidecv` to get it.')
        return
    for mode in ('bbox', 'segm'):
        def need(rd, mode=mode):
            return gt_file(rd.get('meta'), mode) and \
                result_file(rd['work_dir'], rd['row']['round'], mode)
        run, dense, tickets = first_run(runs, need)
        if run is None or not osp.isfile(gt_file(dense['meta'], mode)):
            continue
        res = {round_label(rd['row']): result_file(run['work_dir'], rd['row']['round'], mode)
               for rd in [dense] + tickets}
        errors = tide_errors(gt_file(dense['meta'], mode), res, mode)
        series = {name: [e[k] for k in MAIN_ERRORS] for name, e in errors.items()}
        what = IOU_NAMES[mode]
        path = plots.grouped_bars(osp.join(doc.out_dir, f'tide_{mode}.png'),
                                  f'TIDE errors, {what} ({run["name"]})',
                                  [PAPER_NAMES[k] for k in MAIN_ERRORS], series,
                                  'dAP50 (AP50 points gained by the fix)', xlabel='error type')
        doc.h(f'TIDE errors ({what})')
        doc.img(path, f"TIDE's main errors ({what}): the paper's five, dense vs tickets")
        doc.table(['run', 'AP50 (%)'] + [PAPER_NAMES[k] for k in ALL_ERRORS],
                  [[n, f"{e['AP50']:.2f}"] + [f'{e[k]:.2f}' for k in ALL_ERRORS]
                   for n, e in errors.items()])
        doc.p(PAPER['tide'])


def keypoint_section(doc: Doc, runs: List[dict]) -> None:
    """Ronchi & Perona's keypoint errors as coco-analyze computes them (Fig. 9)."""
    from .coco_breakdown import load_coco
    from .keypoint_errors import COCO_ALL, REFERENCE_ALL, keypoint_error_analysis

    def need(rd):
        m = rd.get('meta') or {}
        return m.get('sigmas') and gt_file(m, 'keypoints') and \
            result_file(rd['work_dir'], rd['row']['round'], 'keypoints')
    run, dense, tickets = first_run(runs, need)
    if run is None or not osp.isfile(gt_file(dense['meta'], 'keypoints')):
        return
    gt = load_coco(gt_file(dense['meta'], 'keypoints'))
    people = [a for a in gt.anns.values() if a.get('num_keypoints', 0) > 0]
    in_ref = sum(a['area'] >= REFERENCE_ALL[0] for a in people)
    # the reference ignores persons under 32^2 px: on small images (the quickstarts) it
    # would leave no one, so COCO's own `all` range is used there, and said so
    area_rng, area_txt = REFERENCE_ALL, "coco-analyze's `all` [32², 1e10] px²"
    if 2 * in_ref < len(people):
        area_rng = COCO_ALL
        area_txt = (f"COCOeval's `all` [0, 1e10] px² (coco-analyze's [32², 1e10] would keep "
                    f'{in_ref} of {len(people)} persons)')
    fixes = ('miss', 'swap', 'inversion', 'jitter', 'score', 'bkg_fp', 'fn')
    drawn = ('miss', 'swap', 'inversion', 'jitter', 'bkg_fp')
    names = {'miss': 'Miss', 'swap': 'Swap', 'inversion': 'Inversion', 'jitter': 'Jitter',
             'score': 'Score', 'bkg_fp': 'Bkg FP', 'fn': 'FN'}
    series, rows = {}, []
    for rd in [dense] + tickets:
        m = rd['meta']
        flip = m.get('flip_indices') or list(range(len(m['sigmas'])))
        a = keypoint_error_analysis(gt, result_file(run['work_dir'], rd['row']['round'],
                                                    'keypoints'), m['sigmas'], flip,
                                    area_rng=area_rng)
        name = round_label(rd['row'])
        series[name] = [100 * a['ap_gain'][t] for t in drawn]
        rows.append([name, ap_pct(a['ap']['original'])] +
                    [f"{100 * a['ap_gain'][t]:+.1f}" for t in fixes] + [a['fn']] +
                    [f"{100 * a['fractions'][t]:.1f}%" for t in
                     ('good', 'miss', 'swap', 'inversion', 'jitter')] + [a['bkg_fp']])
    path = plots.grouped_bars(osp.join(doc.out_dir, 'keypoint_errors.png'),
                              f'Keypoint errors, Ronchi & Perona ({run["name"]})',
                              [names[t] for t in drawn], series,
                              'AP gained by fixing the error (points)', xlabel='error type')
    doc.h('Keypoint errors')
    if not dense['meta'].get('flip_indices'):
        doc.p('Note: the dataset metadata give no left/right keypoint pairs (flip_indices), '
              'so no error is counted as an inversion.')
    doc.img(path, 'keypoint AP (OKS) gained by correcting each error type in turn, '
                  'dense vs tickets')
    doc.table(['run', 'AP (%)'] + [f'dAP {names[t]}' for t in fixes] + ['FN persons'] +
              ['good kp', 'miss kp', 'swap kp', 'inversion kp', 'jitter kp', 'bkg FP dets'],
              rows)
    doc.p(PAPER['keypoints'] + f' Area range: {area_txt}; dataset sigmas and flip pairs '
          f'({len(dense["meta"]["sigmas"])} keypoints). Fixes are cumulative in the order '
          'of the columns; after FN the AP is 100 by construction.')
