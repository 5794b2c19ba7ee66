# Copyright (c) lth_mm authors. All rights reserved.
"""Keypoint error taxonomy of Ronchi & Perona (ICCV 2017), as their coco-analyze computes it.

coco-analyze (github matteorr/coco-analyze, ``pycocotools/cocoanalyze.py``) is the
definition: the numbers here equal its numbers (tests/test_analysis_kpt_ref.py checks them on
fixtures made by the reference itself), quirks included, so that bars compare with the
paper's Fig. 9 and with any paper that used the tool. It is not on the package registry and
needs numpy < 2, hence this re-implementation on the installed pycocotools ``COCOeval``.

The analysis, on one area range ``all`` (the reference's [32^2, 1e10] by default):

1. Each detection (top 20 per image by score) is matched greedily by COCOeval at OKS 0.1;
   matches to persons without labelled keypoints are skipped.
2. Each labelled keypoint of a matched detection gets the keypoint similarity
   ``ks = exp(-d^2 / (2 area (2 sigma)^2))`` to the same keypoint of the matched person, of
   its left/right-inverted twin, and to the same/twin keypoints of every other annotation of
   the image; the arg-max (first on ties) and the maximum decide: Good (max > 0.85 on the
   keypoint itself), Jitter (0.5 <= max < 0.85 on itself), Inversion (max >= 0.5 on the twin),
   Swap (max >= 0.5 on another person), Miss (max < 0.5). A keypoint whose own ks is exactly
   0.85 is in no class (the reference's boundary).
3. AP (OKS 0.5:0.95, 20 detections) after each cumulative fix: Miss, Swap, Inversion, Jitter
   move the keypoint to a similarity *level* (Jitter 0.85, Miss 0.5, Inversion/Swap their best
   ks) along x; Score rescores every detection with its best OKS with any evaluable person
   followed by the reference's soft-NMS; Bkg FP ignores the detections unmatched at each OKS
   threshold after those fixes; FN then ignores the persons unmatched (cumulatively over the
   thresholds, ascending), which brings AP to about 1 by construction.

Quirks of the reference kept by default (``variant='reference'``): the fix distance uses
``sigma^2`` where OKS uses ``(2 sigma)^2``, so a fixed keypoint lands at ks = level^(1/4)
(Jitter 0.96, Miss 0.84), not at the level; ``variant='corrected'`` lands it at the level.
Extension (not in the reference, which hard-codes COCO's 17 keypoints): any keypoint set,
with the dataset's sigmas and flip pairs, and several keypoint categories (each analysed as
the reference analyses persons; counts summed, AP the mean over categories as COCOeval's).
"""
import contextlib
import copy
import io
import json
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from .coco_breakdown import load_coco, load_results

ERROR_TYPES = ('miss', 'swap', 'inversion', 'jitter')
FIXES = ('miss', 'swap', 'inversion', 'jitter', 'score', 'bkg_fp', 'fn')
CLASSES = ('good', 'jitter', 'inversion', 'swap', 'miss')
GOOD_KS, ERROR_KS, MATCH_OKS, MAX_DETS = 0.85, 0.5, 0.1, 20
OKS_THRS = (.5, .55, .6, .65, .7, .75, .8, .85, .9, .95)
REFERENCE_ALL = (32 ** 2, 1e5 ** 2)  # coco-analyze's `all`: persons under 32^2 px ignored
COCO_ALL = (0, 1e5 ** 2)  # COCOeval's `all`
VARIANTS = ('reference', 'corrected')


def classify(ks: np.ndarray, num_anns: int, labelled: np.ndarray) -> List[Optional[str]]:
    """Error class of each keypoint from its similarity matrix, the reference's arg-max rule.

    Args:
        ks: (2 * num_anns, K) keypoint similarities, -1 where unlabelled. Row 0: the matched
            person; rows 1..num_anns-1: the image's other annotations; rows num_anns..: the
            same persons left/right-inverted (row num_anns: the matched person's twin).
        num_anns: annotations of the image (the matched one included).
        labelled: (K,) bool, the matched person's labelled keypoints.

    Returns:
        list: per keypoint one of :data:`CLASSES`, or None (unlabelled, or the exact 0.85
        boundary on the keypoint itself, which the reference puts in no class).
    """
    best = np.amax(ks, axis=0)
    best[best < 0] = 0
    arg = np.argmax(ks, axis=0)  # the first maximum: the keypoint itself wins ties
    out: List[Optional[str]] = []
    for j in range(ks.shape[1]):
        if not labelled[j]:
            out.append(None)
        elif best[j] < ERROR_KS:
            out.append('miss')
        elif arg[j] == 0:
            out.append('good' if best[j] > GOOD_KS else
                       'jitter' if best[j] < GOOD_KS else None)
        else:
            out.append('inversion' if arg[j] == num_anns else 'swap')
    return out


def _similarities(dt_kpts, gt, image_anns, sigmas, flip):
    """The (2n, K) ks matrix of :func:`classify`, in the reference's arithmetic order."""
    n, k = len(image_anns), len(sigmas)
    mat, vis, areas = np.zeros((2 * n, 2 * k)), np.zeros((2 * n, k)), np.zeros(2 * n)
    row = 1
    for a in image_anns:
        kp = np.asarray(a['keypoints'], dtype=float)
        xs, ys, vs = kp[0::3], kp[1::3], kp[2::3]
        r = 0 if a['id'] == gt['id'] else row
        row += r != 0
        mat[r, 0::2], mat[r, 1::2], vis[r], areas[r] = xs, ys, vs, a['area']
        mat[r + n, 0::2], mat[r + n, 1::2] = xs[flip], ys[flip]
        vis[r + n], areas[r + n] = vs[flip], a['area']
    d = np.delete(np.asarray(dt_kpts, dtype=float), slice(2, None, 3))
    sq = np.add.reduceat(np.square(mat - d), range(0, 2 * k, 2), axis=1)
    ks = np.exp(-sq / (sigmas * 2) ** 2 / (areas[:, None] + np.spacing(1)) / 2)
    return ks * (vis > 0) - 1 * (vis == 0)


def _targets(dt_kpts, gt, classes, best, sigmas, variant):
    """Where each error keypoint is moved: (K, 2), x shifted from the person's keypoint."""
    g = np.asarray(gt['keypoints'], dtype=float).reshape(-1, 3)
    # the reference's sigma^2 (a quirk: OKS uses (2 sigma)^2); 'corrected' reaches the level
    var = sigmas ** 2 if variant == 'reference' else (2 * sigmas) ** 2
    best = best + np.spacing(1) * (best == 0) - np.spacing(1) * (best == 1)
    level = {'jitter': GOOD_KS, 'miss': ERROR_KS}
    out = np.asarray(dt_kpts, dtype=float).reshape(-1, 3)[:, :2].copy()
    for j, c in enumerate(classes):
        if c in ERROR_TYPES:
            lv = level.get(c, best[j])
            out[j] = g[j, 0] + np.sqrt(-np.log(lv) * 2 * gt['area'] * var[j]), g[j, 1]
    return out


class _Analysis:
    """The mutable state of one run: detections changed in place as the reference does."""

    def __init__(self, coco_gt, coco_dt, sigmas, area_rng, cat):
        self.gt, self.dt, self.sigmas, self.cat = coco_gt, coco_dt, sigmas, cat
        self.area_rng = [float(area_rng[0]), float(area_rng[1])]
        self.orig = {i: (list(d['keypoints']), d['score']) for i, d in coco_dt.anns.items()}
        per_img: Dict[int, int] = {}
        for d in coco_dt.anns.values():
            per_img[d['image_id']] = per_img.get(d['image_id'], 0) + 1
        self.all_dets = max(per_img.values())  # the reference's teamMaxDets

    def reset(self):
        for i, d in self.dt.anns.items():
            d['keypoints'], d['score'] = list(self.orig[i][0]), self.orig[i][1]

    def evaluate(self, thrs, max_dets=MAX_DETS) -> COCOeval:
        e = COCOeval(self.gt, self.dt, 'keypoints')
        p = e.params
        p.kpt_oks_sigmas, p.catIds = self.sigmas, [self.cat]
        p.areaRng, p.areaRngLbl = [self.area_rng], ['all']
        p.maxDets, p.iouThrs = [max_dets], np.asarray(thrs, dtype=float)
        with contextlib.redirect_stdout(io.StringIO()):
            e.evaluate()
        return e

    @staticmethod
    def aucs(e: COCOeval) -> np.ndarray:
        """Per-threshold mean precision, -1 without ground truth (the reference's ``auc``)."""
        with contextlib.redirect_stdout(io.StringIO()):
            e.accumulate()
        out = []
        for p in e.eval['precision'][:, :, :, 0, 0]:
            out.append(-1.0 if not (p > -1).any() else float(np.mean(p[p > -1])))
        return np.asarray(out)

    @staticmethod
    def matches(e: COCOeval, t: int = 0):
        """Matched detection -> person ids at threshold index ``t``, and matched person ids."""
        dts, gts = {}, set()
        for im in filter(None, e.evalImgs):
            for did, m in zip(im['dtIds'], im['dtMatches'][t]):
                if m:
                    dts[did] = int(m)
                    gts.add(int(m))
        return dts, gts

    def set_keypoints(self, fixes, types):
        for did, (classes, target) in fixes.items():
            k = np.asarray(self.dt.anns[did]['keypoints'], dtype=float).reshape(-1, 3)
            for j, c in enumerate(classes):
                if c in types:
                    k[j, :2] = target[j]
            self.dt.anns[did]['keypoints'] = k.ravel().tolist()

    def best_oks(self) -> Dict[int, float]:
        """Each detection's best OKS with an evaluable person of its image (0 if none)."""
        e = self.evaluate([ERROR_KS], self.all_dets)
        out = {i: 0.0 for i in self.dt.anns}
        lo, hi = self.area_rng
        for (img, _), ious in e.ious.items():
            if len(ious) == 0:
                continue
            gts = e._gts[img, self.cat]
            ok = np.array([not g['ignore'] and lo <= g['area'] <= hi for g in gts])
            if not ok.any():
                continue
            dts = e._dts[img, self.cat]
            order = np.argsort([-d['score'] for d in dts], kind='mergesort')
            for row, i in enumerate(order):
                out[dts[i]['id']] = float(ious[row][ok].max())
        return out

    def soft_nms(self, scores: Dict[int, float]) -> Dict[int, float]:
        """The reference's soft-NMS of ``scores`` over each image's detections."""
        var = (self.sigmas * 2) ** 2
        new = dict(scores)
        for img in sorted(self.gt.getImgIds()):
            b = [d for d in self.dt.imgToAnns.get(img, []) if d['category_id'] == self.cat]
            while b:
                b.sort(key=lambda d: -new[d['id']])  # stable, as the reference's list.sort
                m = np.asarray(b.pop(0)['keypoints'], dtype=float)
                mx, my = m[0::3], m[1::3]
                m_area = (mx.max() - mx.min()) * (my.max() - my.min())
                for d in b:
                    k = np.asarray(d['keypoints'], dtype=float)
                    dx, dy = k[0::3], k[1::3]
                    d_area = (dx.max() - dx.min()) * (dy.max() - dy.min())
                    e = ((dx - mx) ** 2 + (dy - my) ** 2) / var / \
                        ((.5 * (m_area + d_area)) + np.spacing(1)) / 2
                    oks = np.sum(np.exp(-e)) / e.shape[0]
                    new[d['id']] = new[d['id']] * np.exp(-(oks ** 2) / .5)
        return new


def keypoint_error_analysis(gt: Union[str, dict, COCO],
                            results: Union[str, list],
                            sigmas: Sequence[float],
                            flip_indices: Sequence[int],
                            area_rng: Sequence[float] = REFERENCE_ALL,
                            variant: str = 'reference') -> dict:
    """Count the keypoint errors and the AP after correcting each type in turn.

    Args:
        gt: COCO keypoint ground truth (path, dict or pycocotools ``COCO``).
        results: COCO keypoint results (path or list).
        sigmas: per-keypoint OKS sigmas.
        flip_indices: index of each keypoint's left/right twin (itself if none).
        area_rng: the ``all`` area range; default the reference's :data:`REFERENCE_ALL`,
            :data:`COCO_ALL` for small persons (e.g. the 96/128-px quickstarts).
        variant: ``'reference'`` (coco-analyze's numbers) or ``'corrected'`` (fixed
            keypoints land at the similarity level the method states).

    Returns:
        dict: ``counts`` (per class of :data:`CLASSES` over labelled keypoints of matched
        detections), ``num_keypoints``, ``unclassified`` (the exact 0.85 boundary),
        ``fractions``, ``matched`` (analysed detections), ``bkg_fp`` (detections unmatched
        at every OKS threshold), ``fn`` (labelled persons unmatched at every threshold),
        ``ap`` (``original`` and after each cumulative fix of :data:`FIXES`), ``ap_gain``,
        ``area_rng`` and ``variant``.
    """
    if variant not in VARIANTS:
        raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}.')
    sigmas = np.asarray(sigmas, dtype=float)
    flip = np.asarray(flip_indices, dtype=int)
    if len(flip) != len(sigmas):
        raise ValueError(f'flip_indices has {len(flip)} entries but sigmas {len(sigmas)}; '
                         'both must list every keypoint.')
    coco_gt = load_coco(gt)
    if isinstance(results, str):
        with open(results) as f:
            results = json.load(f)
    coco_dt = load_results(coco_gt, copy.deepcopy(list(results)))
    steps = ('original', ) + FIXES
    if coco_dt is None:  # no detections: nothing to classify, AP 0
        return _result({c: 0 for c in CLASSES}, 0, 0, 0, len(coco_gt.anns),
                       {s: 0.0 for s in steps}, area_rng, variant)
    # The reference analyses one category (COCO's person). Extension: a keypoint set with
    # several categories (the synthetic shapes) is analysed per category; counts add up and
    # each AP is the mean over categories, as COCOeval's mAP.
    cats = sorted({a['category_id'] for a in coco_gt.anns.values()
                   if a.get('num_keypoints', 0) > 0}) or sorted(coco_gt.getCatIds())[:1]
    parts = [_analyse_category(coco_gt, coco_dt, c, sigmas, flip, area_rng, variant)
             for c in cats]
    counts = {c: sum(p['counts'][c] for p in parts) for c in CLASSES}
    ap = {}
    for s in steps:
        valid = [p['ap'][s] for p in parts if p['ap'][s] >= 0]
        ap[s] = float(np.mean(valid)) if valid else -1.0
    return _result(counts, *(sum(p[k] for p in parts) for k in ('unclassified', 'matched',
                                                                   'bkg_fp', 'fn')),
                   ap, area_rng, variant)


def _analyse_category(coco_gt, coco_dt, cat, sigmas, flip, area_rng, variant) -> dict:
    """The analysis of one category, as coco-analyze does it for persons."""
    run = _Analysis(coco_gt, coco_dt, sigmas, area_rng, cat)

    # 1-2. match at OKS 0.1, classify, and where each error keypoint goes
    fixes, counts, unclassified = {}, {c: 0 for c in CLASSES}, 0
    dt_gt, _ = run.matches(run.evaluate([MATCH_OKS]))
    for did, gid in dt_gt.items():
        g = coco_gt.anns[gid]
        if g['num_keypoints'] == 0:  # matched, but nothing to analyse
            continue
        d = coco_dt.anns[did]
        anns = coco_gt.loadAnns(coco_gt.getAnnIds(imgIds=d['image_id']))
        ks = _similarities(d['keypoints'], g, anns, sigmas, flip)
        labelled = np.asarray(g['keypoints'][2::3]) != 0
        classes = classify(ks, len(anns), labelled)
        best = np.maximum(np.amax(ks, axis=0), 0)
        fixes[did] = (classes, _targets(d['keypoints'], g, classes, best, sigmas, variant))
        for c in classes:
            if c is not None:
                counts[c] += 1
        unclassified += int(labelled.sum()) - sum(c is not None for c in classes)

    # 3. AP after each cumulative fix
    aucs = {}
    base = run.evaluate(OKS_THRS)
    aucs['original'] = run.aucs(base)
    bad_fp = {i for i, d in coco_dt.anns.items() if d['category_id'] == cat}
    bad_fn = {i for i, a in coco_gt.anns.items()
              if a.get('num_keypoints', 0) > 0 and a['category_id'] == cat}
    for t in range(len(OKS_THRS)):  # background errors at every threshold (original dets)
        dts, gts = run.matches(base, t)
        bad_fp -= set(dts)
        bad_fn -= gts
    for i, t in enumerate(ERROR_TYPES):
        run.set_keypoints(fixes, ERROR_TYPES[:i + 1])
        aucs[t] = run.aucs(run.evaluate(OKS_THRS))
    scores = run.soft_nms(run.best_oks())
    for i, s in scores.items():
        if coco_dt.anns[i]['category_id'] == cat:
            coco_dt.anns[i]['score'] = s
    e = run.evaluate(OKS_THRS)
    aucs['score'] = run.aucs(e)
    for t in range(len(OKS_THRS)):  # ignore the detections unmatched at each threshold
        dts, _ = run.matches(e, t)
        for im in filter(None, e.evalImgs):
            for k, did in enumerate(im['dtIds']):
                if did not in dts:
                    im['dtIgnore'][t][k] = True
    aucs['bkg_fp'] = run.aucs(e)
    fn_aucs = []
    for t in range(len(OKS_THRS)):  # then the persons; the ignores accumulate (reference)
        _, gts = run.matches(e, t)
        for im in filter(None, e.evalImgs):
            for k, gid in enumerate(im['gtIds']):
                if gid not in gts:
                    im['gtIgnore'][k] = 1
        fn_aucs.append(run.aucs(e)[t])
    aucs['fn'] = np.asarray(fn_aucs)
    run.reset()
    return dict(counts=counts, unclassified=unclassified, matched=len(fixes),
                bkg_fp=len(bad_fp), fn=len(bad_fn),
                ap={s: (-1.0 if (a < 0).any() else float(np.mean(a)))
                    for s, a in aucs.items()})


def _result(counts, unclassified, matched, bkg_fp, fn, ap, area_rng, variant) -> dict:
    total = sum(counts.values())
    steps = ('original', ) + FIXES
    return {
        'counts': counts,
        'num_keypoints': total,
        'unclassified': unclassified,
        'fractions': {k: (v / total if total else 0.0) for k, v in counts.items()},
        'matched': matched,
        'bkg_fp': bkg_fp,
        'fn': fn,
        'ap': ap,
        'ap_gain': {s: ap[s] - ap[p] for p, s in zip(steps[:-1], steps[1:])},
        'area_rng': [float(area_rng[0]), float(area_rng[1])],
        'variant': variant,
    }
