# Copyright (c) lth_mm authors. All rights reserved.
"""COCO evaluation and its breakdowns by object size, category frequency and difficulty.

Every AP here comes from pycocotools' ``COCOeval`` (its ``stats`` and its precision array
``eval['precision'][T, R, K, A, M]``); this module only slices and bins those arrays, so
its numbers are the ones mmdet's and mmpose's ``CocoMetric`` report.
"""
import contextlib
import copy
import io
import json
import math
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

# Names of COCOeval.stats entries (the first six of bbox/segm; the first five of keypoints).
_STATS_NAMES = {
    'bbox': ['AP', 'AP50', 'AP75', 'AP_small', 'AP_medium', 'AP_large'],
    'segm': ['AP', 'AP50', 'AP75', 'AP_small', 'AP_medium', 'AP_large'],
    'keypoints': ['AP', 'AP50', 'AP75', 'AP_medium', 'AP_large'],
}


def load_coco(gt: Union[str, dict, COCO]) -> COCO:
    """A pycocotools ``COCO`` from a path, a dict or an existing object (silently)."""
    if isinstance(gt, COCO):
        return gt
    coco = COCO()
    if isinstance(gt, str):
        with open(gt) as f:
            gt = json.load(f)
    coco.dataset = copy.deepcopy(gt)
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def load_results(coco_gt: COCO, results: Union[str, list]) -> Optional[COCO]:
    """``coco_gt.loadRes`` that accepts a path or a list; None for no detections."""
    if isinstance(results, str):
        with open(results) as f:
            results = json.load(f)
    if not results:
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        return coco_gt.loadRes(copy.deepcopy(results))


def _area_ap(precision: np.ndarray, k: int, a: int) -> float:
    """Mean precision over IoU thresholds and recall points (COCOeval's AP) for one class."""
    p = precision[:, :, k, a, -1]
    p = p[p > -1]
    return float(p.mean()) if p.size else float('nan')


def coco_eval(gt: Union[str, dict, COCO],
              results: Union[str, list],
              iou_type: str,
              sigmas: Optional[Sequence[float]] = None,
              use_cats: bool = True) -> dict:
    """Run COCOeval once and keep what the analyses need.

    Args:
        gt: ground-truth COCO json (path, dict or ``COCO``).
        results: COCO-format results (path or list).
        iou_type: ``'bbox'``, ``'segm'`` or ``'keypoints'``.
        sigmas: per-keypoint OKS sigmas (keypoints only; default: COCO's 17).
        use_cats: evaluate per category (COCO's default).

    Returns:
        dict: ``{'stats': {AP, AP50, ...}, 'per_category': {name: {'AP', 'AP_small', ...,
        'num_gt'}}}``; AP is in [0, 1], NaN for a category without ground truth.
    """
    if iou_type not in _STATS_NAMES:
        raise ValueError(f"iou_type must be one of {list(_STATS_NAMES)}, got {iou_type!r}.")
    coco_gt = load_coco(gt)
    coco_dt = load_results(coco_gt, results)
    cat_ids = sorted(coco_gt.getCatIds())
    names = {c['id']: c['name'] for c in coco_gt.loadCats(cat_ids)}
    num_gt = {c: len(coco_gt.getAnnIds(catIds=[c], iscrowd=False)) for c in cat_ids}
    stat_names = _STATS_NAMES[iou_type]
    if coco_dt is None:  # no detection at all: every AP is 0 where there is ground truth
        per_cat = {names[c]: {'AP': 0.0 if num_gt[c] else float('nan'), 'num_gt': num_gt[c]}
                   for c in cat_ids}
        return {'stats': {n: 0.0 for n in stat_names}, 'per_category': per_cat}
    ev = COCOeval(coco_gt, coco_dt, iou_type)
    if iou_type == 'keypoints' and sigmas is not None:
        ev.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=float)
    ev.params.useCats = int(use_cats)
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = {n: float(v) for n, v in zip(stat_names, ev.stats)}
    precision = ev.eval['precision']
    area_labels = ev.params.areaRngLbl  # ['all', 'small', 'medium', 'large'] or no small
    per_cat = {}
    for k, c in enumerate(ev.params.catIds if use_cats else []):
        row = {'num_gt': num_gt[c]}
        for a, label in enumerate(area_labels):
            key = 'AP' if label == 'all' else f'AP_{label}'
            row[key] = _area_ap(precision, k, a)
        per_cat[names[c]] = row
    return {'stats': stats, 'per_category': per_cat}


def per_category_ap(evaluation: Mapping) -> Dict[str, float]:
    """``{category: AP}`` of a :func:`coco_eval` result (categories with ground truth)."""
    return {n: v['AP'] for n, v in evaluation['per_category'].items()
            if v.get('AP') is not None and not math.isnan(v['AP'])}


def percent_change(ticket: Optional[float], dense: Optional[float]) -> float:
    """``100 * (ticket - dense) / dense``; NaN where it is undefined (dense 0 or missing)."""
    if ticket is None or dense is None or not dense or math.isnan(dense) or math.isnan(ticket):
        return float('nan')
    return 100.0 * (ticket - dense) / dense


def _bin_bounds(values: Sequence[float], n_bins: int) -> List[int]:
    """Where to cut sorted ``values`` into about ``n_bins`` bins of (nearly) equal size.

    Bins adapt to few categories: at most one bin per two categories (a bin of one says
    little), at most one per distinct value, and equal values are never split across two
    bins (no "0.70-0.70" twice).
    """
    values = [round(float(v), 9) for v in values]  # AP 1.0 and 0.9999999999: one value
    n = len(values)
    n_bins = max(1, min(int(n_bins), len(set(values)), n // 2 or 1))
    cuts = []
    for i in range(1, n_bins):
        c = int(round(i * n / n_bins))
        while 0 < c < n and values[c] == values[c - 1]:  # keep ties together
            c += 1
        if 0 < c < n and (not cuts or c > cuts[-1]):
            cuts.append(c)
    bounds = [0] + cuts + [n]
    while len(bounds) > 2:  # moving a cut past ties can leave a bin of one: merge it
        sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:])]
        small = next((i for i, k in enumerate(sizes) if k < 2), None)
        if small is None or n < 4:
            break
        del bounds[small if small == len(sizes) - 1 else small + 1]
    return bounds


def _binned(key: Mapping[str, float], dense: Mapping[str, float],
            ticket: Mapping[str, float], n_bins: int) -> List[dict]:
    """Categories sorted by ``key`` and cut into at most ``n_bins`` bins (see
    :func:`_bin_bounds`)."""
    cats = [c for c in key if c in dense and c in ticket
            and not math.isnan(dense[c]) and not math.isnan(ticket[c])]
    if not cats:
        return []
    cats.sort(key=lambda c: (key[c], c))
    bounds = _bin_bounds([key[c] for c in cats], n_bins)
    bins = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        members = cats[lo:hi]
        d = float(np.mean([dense[c] for c in members]))
        t = float(np.mean([ticket[c] for c in members]))
        bins.append({
            'categories': members,
            'key_min': float(key[members[0]]),
            'key_max': float(key[members[-1]]),
            'dense_AP': d,
            'ticket_AP': t,
            # The change of the bin's mean AP: per-category % changes explode where a
            # category's dense AP is near 0, which is common for rare classes.
            'change_pct': percent_change(t, d),
        })
    return bins


def frequency_bins(train_instances: Mapping[str, int], dense: Mapping[str, float],
                   ticket: Mapping[str, float], n_bins: int = 4) -> List[dict]:
    """Per-category AP change vs dense, categories binned by training-instance count (Fig. 5).

    Args:
        train_instances: ``{category: number of training instances}``.
        dense: ``{category: AP}`` of the dense model.
        ticket: ``{category: AP}`` of the ticket.
        n_bins: the most bins (about equal numbers of categories, at least two each where
            possible, equal counts in one bin; fewest instances first).

    Returns:
        list[dict]: per bin ``categories``, ``key_min``/``key_max`` (instance counts),
        ``dense_AP``, ``ticket_AP`` (bin means) and ``change_pct``.
    """
    return _binned({c: float(n) for c, n in train_instances.items()}, dense, ticket, n_bins)


def difficulty_bins(dense: Mapping[str, float], ticket: Mapping[str, float],
                    n_bins: int = 4) -> List[dict]:
    """Per-category AP change vs dense, categories binned by the dense model's AP (Fig. 5).

    Args:
        dense: ``{category: AP}`` of the dense model (the difficulty: low AP = hard).
        ticket: ``{category: AP}`` of the ticket.
        n_bins: the most bins (hardest first; as :func:`frequency_bins`).

    Returns:
        list[dict]: as :func:`frequency_bins`, ``key_*`` being dense AP.
    """
    return _binned(dict(dense), dense, ticket, n_bins)


def size_changes(dense_stats: Mapping[str, float],
                 ticket_stats: Mapping[str, float]) -> Dict[str, float]:
    """% change of AP_small / AP_medium / AP_large (those present) vs dense (Fig. 4)."""
    out = {}
    for k in ('AP_small', 'AP_medium', 'AP_large'):
        if k in dense_stats and k in ticket_stats and min(dense_stats[k], ticket_stats[k]) >= 0:
            out[k] = percent_change(ticket_stats[k], dense_stats[k])
    return out
