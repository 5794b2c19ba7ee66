# Copyright (c) lth_mm authors. All rights reserved.
"""Keypoint error taxonomy of Ronchi & Perona (ICCV 2017), on pycocotools.

coco-analyze, the authors' code, is not on the package registry and uses numpy aliases
removed in numpy 2, so the taxonomy is written here by hand (the only hand-written COCO
evaluation in lth_mm); every AP still comes from pycocotools' ``COCOeval``.

Definitions (per labelled ground-truth keypoint of a detection matched to a person):
keypoint similarity ``ks = exp(-d^2 / (2 * area * (2 sigma)^2))`` (one OKS term);

* Good: ks >= 0.85 with the right keypoint;  Jitter: 0.5 <= ks < 0.85;
* Inversion: ks < 0.5 with the right keypoint but >= 0.5 with its left/right twin of the
  same person;  Swap: >= 0.5 with a keypoint (same or twin type) of another person;
  (when both hold, the larger ks decides);
* Miss: ks < 0.5 with all of them.

Detections are matched greedily by score to the unmatched person of highest OKS >= 0.1.
The AP after each cumulative correction (Miss -> Swap -> Inversion -> Jitter: the keypoint
moved onto the right one; Score: each detection rescored by its OKS; Bkg FP: unmatched
detections removed; FN: unmatched persons ignored) measures each error's cost.
"""
import copy
import json
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from .coco_breakdown import coco_eval, load_coco

ERROR_TYPES = ('miss', 'swap', 'inversion', 'jitter')
FIXES = ('miss', 'swap', 'inversion', 'jitter', 'score', 'bkg_fp', 'fn')
GOOD_KS, ERROR_KS, MATCH_OKS = 0.85, 0.5, 0.1


def _kpts(ann) -> np.ndarray:
    return np.asarray(ann['keypoints'], dtype=float).reshape(-1, 3)


def _ks(xy: np.ndarray, ref: np.ndarray, area: float, sigmas: np.ndarray) -> np.ndarray:
    """Per-keypoint similarity of points ``xy`` (K, 2) to ``ref`` (K, 2): one OKS term each."""
    d2 = ((xy - ref) ** 2).sum(-1)
    return np.exp(-d2 / (2 * (area + np.spacing(1)) * (2 * sigmas) ** 2))


def _oks(det: np.ndarray, gt: np.ndarray, area: float, sigmas: np.ndarray) -> float:
    vis = gt[:, 2] > 0
    if not vis.any():
        return 0.0
    return float(_ks(det[vis, :2], gt[vis, :2], area, sigmas[vis]).mean())


def classify_keypoints(det: np.ndarray, gt: dict, others: Sequence[dict],
                       sigmas: np.ndarray, flip: np.ndarray) -> List[Optional[str]]:
    """The error type of each keypoint of one detection matched to ``gt``.

    Args:
        det: (K, 3) detected keypoints.
        gt: the matched ground-truth annotation.
        others: the other persons of the image (ground-truth annotations).
        sigmas: (K,) OKS sigmas.
        flip: (K,) index of each keypoint's left/right twin (itself if none).

    Returns:
        list: per keypoint ``'good'``, one of :data:`ERROR_TYPES`, or None (unlabelled).
    """
    g = _kpts(gt)
    out: List[Optional[str]] = []
    for j in range(len(sigmas)):
        if g[j, 2] <= 0:
            out.append(None)
            continue
        s = sigmas[j:j + 1]
        own = float(_ks(det[j:j + 1, :2], g[j:j + 1, :2], gt['area'], s)[0])
        if own >= GOOD_KS:
            out.append('good')
            continue
        if own >= ERROR_KS:
            out.append('jitter')
            continue
        inv = 0.0
        fj = int(flip[j])
        if fj != j and g[fj, 2] > 0:
            inv = float(_ks(det[j:j + 1, :2], g[fj:fj + 1, :2], gt['area'], s)[0])
        swap = 0.0
        for o in others:
            ok = _kpts(o)
            for jj in {j, fj}:
                if ok[jj, 2] > 0:
                    swap = max(swap, float(_ks(det[j:j + 1, :2], ok[jj:jj + 1, :2],
                                                o['area'], s)[0]))
        if max(inv, swap) >= ERROR_KS:
            out.append('inversion' if inv >= swap else 'swap')
        else:
            out.append('miss')
    return out


def _match(dets: List[dict], gts: List[dict], sigmas: np.ndarray) -> Dict[int, int]:
    """Greedy score-ordered matching ``{det index: gt index}`` at OKS >= 0.1."""
    order = sorted(range(len(dets)), key=lambda i: -dets[i]['score'])
    taken, match = set(), {}
    for i in order:
        d = _kpts(dets[i])
        best, best_oks = None, MATCH_OKS
        for j, g in enumerate(gts):
            if j in taken:
                continue
            o = _oks(d, _kpts(g), g['area'], sigmas)
            if o >= best_oks:
                best, best_oks = j, o
        if best is not None:
            taken.add(best)
            match[i] = best
    return match


def keypoint_error_analysis(gt: Union[str, dict],
                            results: Union[str, list],
                            sigmas: Sequence[float],
                            flip_indices: Sequence[int]) -> dict:
    """Count the keypoint errors and the AP gained by correcting each type in turn.

    Args:
        gt: COCO keypoint ground truth (path or dict).
        results: COCO keypoint results (path or list).
        sigmas: per-keypoint OKS sigmas.
        flip_indices: index of each keypoint's left/right twin (itself if none).

    Returns:
        dict: ``counts`` (good and each error type, over labelled keypoints of matched
        detections), ``fractions`` (of those keypoints), ``bkg_fp`` (unmatched
        detections), ``fn`` (unmatched persons), ``ap`` (``original`` and after each
        cumulative fix of :data:`FIXES`) and ``ap_gain`` (each fix's AP increment).
    """
    coco_gt = load_coco(gt)
    gt_dict = copy.deepcopy(coco_gt.dataset)
    if isinstance(results, str):
        with open(results) as f:
            results = json.load(f)
    dets = copy.deepcopy(list(results))
    sigmas = np.asarray(sigmas, dtype=float)
    flip = np.asarray(flip_indices, dtype=int)
    if len(flip) != len(sigmas):
        raise ValueError(f'flip_indices has {len(flip)} entries but sigmas {len(sigmas)}; '
                         'both must list every keypoint.')
    persons = defaultdict(list)  # (image, category) -> evaluable persons
    for a in gt_dict['annotations']:
        if not a.get('iscrowd', 0) and a.get('num_keypoints', 0) > 0:
            persons[(a['image_id'], a['category_id'])].append(a)
    by_img = defaultdict(list)
    for i, d in enumerate(dets):
        by_img[(d['image_id'], d['category_id'])].append(i)

    counts = {k: 0 for k in ('good', ) + ERROR_TYPES}
    kinds: Dict[int, List[Optional[str]]] = {}
    matched_gt: Dict[int, dict] = {}
    matched_gt_ids = set()
    for key, idx in by_img.items():
        gts = persons.get(key, [])
        m = _match([dets[i] for i in idx], gts, sigmas)
        for local, gi in m.items():
            i = idx[local]
            g = gts[gi]
            others = [o for k, o in enumerate(gts) if k != gi]
            kinds[i] = classify_keypoints(_kpts(dets[i]), g, others, sigmas, flip)
            matched_gt[i] = g
            matched_gt_ids.add(g['id'])
            for t in kinds[i]:
                if t is not None:
                    counts[t] += 1
    total = sum(counts.values())
    n_gt = sum(len(v) for v in persons.values())

    def ap(ds, g=gt_dict):
        return coco_eval(g, ds, 'keypoints', sigmas=sigmas)['stats']['AP']

    aps = {'original': ap(dets)}
    fixed = copy.deepcopy(dets)
    for t in ERROR_TYPES:  # move each keypoint of this type onto the right one
        for i, ks in kinds.items():
            k = _kpts(fixed[i])
            g = _kpts(matched_gt[i])
            for j, kind in enumerate(ks):
                if kind == t:
                    k[j, :2] = g[j, :2]
            fixed[i]['keypoints'] = k.ravel().tolist()
        aps[t] = ap(fixed)
    for i, d in enumerate(fixed):  # score: the detection's OKS with its best person
        key = (d['image_id'], d['category_id'])
        if i in matched_gt:
            g = matched_gt[i]
            d['score'] = _oks(_kpts(d), _kpts(g), g['area'], sigmas)
        else:
            d['score'] = max([_oks(_kpts(d), _kpts(g), g['area'], sigmas)
                              for g in persons.get(key, [])] + [0.0])
    aps['score'] = ap(fixed)
    fixed = [d for i, d in enumerate(fixed) if i in matched_gt]
    aps['bkg_fp'] = ap(fixed)
    no_fn = copy.deepcopy(gt_dict)
    for a in no_fn['annotations']:
        if a['id'] not in matched_gt_ids:
            # COCOeval overwrites an `ignore` flag with `iscrowd`, but ignores persons
            # without labelled keypoints in keypoint evaluation.
            a['num_keypoints'] = 0
    aps['fn'] = ap(fixed, no_fn)
    steps = ('original', ) + FIXES
    gains = {s: aps[s] - aps[p] for p, s in zip(steps[:-1], steps[1:])}
    return {
        'counts': counts,
        'num_keypoints': total,
        'fractions': {k: (v / total if total else 0.0) for k, v in counts.items()},
        'bkg_fp': len(dets) - len(matched_gt),
        'fn': n_gt - len(matched_gt_ids),
        'ap': aps,
        'ap_gain': gains,
    }
