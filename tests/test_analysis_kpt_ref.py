# Copyright (c) lth_mm authors. All rights reserved.
"""The keypoint error taxonomy against coco-analyze, the authors' tool, and by hand.

``tests/fixtures/keypoint_errors/reference.json`` holds coco-analyze's own numbers (made by
``make_reference.py`` in that folder, with the reference code ported to Python 3 / numpy 2)
on fixtures stored beside it; lth_mm must give the same counts and the same AP after each fix.
"""
import gzip
import json
import os.path as osp

import numpy as np
import pytest

from lth_mm.analysis.keypoint_errors import (COCO_ALL, ERROR_KS, GOOD_KS, _targets, classify,
                                             keypoint_error_analysis)

FIX = osp.join(osp.dirname(__file__), 'fixtures', 'keypoint_errors')
with open(osp.join(FIX, 'reference.json')) as f:
    REF = json.load(f)
CASES = [(name, label) for name, r in REF.items() for label in ('ref_all', 'coco_all')
         if label in r]


def _load(name, what):
    with gzip.open(osp.join(FIX, f'{name}_{what}.json.gz'), 'rt') as f:
        return json.load(f)


@pytest.mark.parametrize('name,label', CASES, ids=[f'{n}-{lb}' for n, lb in CASES])
def test_equals_coco_analyze(name, label):
    r, ref = REF[name], REF[name][label]
    res = keypoint_error_analysis(_load(name, 'gt'), _load(name, 'dets'), r['sigmas'],
                                  r['flip_indices'], area_rng=ref['area_rng'])
    assert res['counts'] == ref['counts']
    assert (res['matched'], res['bkg_fp'], res['fn']) == (ref['matched'], ref['bkg_fp'],
                                                          ref['fn'])
    for step, ap in ref['ap'].items():
        assert res['ap'][step] == pytest.approx(ap, abs=1e-9), step
    # the fixtures exercise every error type and every fix
    assert min(ref['counts'].values()) > 0
    assert all(g > 0 for s, g in res['ap_gain'].items() if s != 'bkg_fp')


# ----------------------------------------------------------------- classification by hand
def _ks(own, twin=-1.0, other=-1.0, other_twin=-1.0):
    """A one-keypoint similarity matrix for a matched person and one other person."""
    return np.array([[own], [other], [twin], [other_twin]]), 2


@pytest.mark.parametrize('ks,expected', [
    (dict(own=0.9), 'good'),
    (dict(own=0.86, twin=0.2), 'good'),
    (dict(own=GOOD_KS), None),  # the reference's exact boundary: no class
    (dict(own=np.nextafter(GOOD_KS, 1)), 'good'),
    (dict(own=np.nextafter(GOOD_KS, 0)), 'jitter'),
    (dict(own=ERROR_KS), 'jitter'),  # 0.5 is an error threshold, inclusive
    (dict(own=np.nextafter(ERROR_KS, 0)), 'miss'),
    (dict(own=0.3, twin=0.7), 'inversion'),
    (dict(own=0.6, twin=0.7), 'inversion'),  # arg-max: closer to the twin than to itself
    (dict(own=0.9, twin=0.95), 'inversion'),
    (dict(own=0.6, twin=0.6), 'jitter'),  # ties go to the keypoint itself (first row)
    (dict(own=0.3, other=0.6), 'swap'),
    (dict(own=0.9, other=0.92), 'swap'),  # a Good keypoint closer to another person
    (dict(own=0.3, other_twin=0.55), 'swap'),
    (dict(own=0.3, twin=0.7, other=0.7), 'swap'),  # tie between persons: the first row
    (dict(own=0.4, twin=0.45, other=0.49), 'miss'),
])
def test_classify_rule(ks, expected):
    mat, n = _ks(**ks)
    assert classify(mat, n, np.array([True])) == [expected]


def test_classify_unlabelled_keypoint_has_no_class():
    mat, n = _ks(own=-1.0, twin=0.9)
    assert classify(mat, n, np.array([False])) == [None]


@pytest.mark.parametrize('variant,power', [('reference', 0.25), ('corrected', 1.0)])
def test_fix_targets_land_at_the_levels(variant, power):
    sigmas = np.array([0.05, 0.05, 0.05])
    gt = {'keypoints': [50, 50, 2, 80, 50, 2, 20, 50, 2], 'area': 4000.0}
    classes = ['jitter', 'miss', 'swap']
    best = np.array([0.7, 0.2, 0.6])
    target = _targets(np.zeros(9), gt, classes, best, sigmas, variant)
    g = np.asarray(gt['keypoints'], float).reshape(-1, 3)[:, :2]
    d2 = ((target - g) ** 2).sum(1)
    ks = np.exp(-d2 / (2 * gt['area'] * (2 * sigmas) ** 2))  # OKS's similarity
    # the reference moves with sigma^2, so a fixed keypoint lands at level^(1/4)
    assert ks == pytest.approx(np.array([GOOD_KS, ERROR_KS, 0.6]) ** power)


# ----------------------------------------------------------------- end to end by hand
SIGMAS = [0.1, 0.1, 0.1]
FLIP = [0, 2, 1]  # nose, left, right


def _person(i, dx, area=10000, nk=3):
    k = [30 + dx, 10, 2, 0 + dx, 40, 2, 60 + dx, 40, 2] if nk else [0] * 9
    return {'id': i, 'image_id': 1, 'category_id': 1, 'keypoints': k, 'num_keypoints': nk,
            'area': area, 'bbox': [dx, 0, 100, 100], 'iscrowd': 0}


def _gt(*persons):
    return {'images': [{'id': 1, 'width': 900, 'height': 200}],
            'categories': [{'id': 1, 'name': 'person'}], 'annotations': list(persons)}


def _det(kpts, score):
    return {'image_id': 1, 'category_id': 1, 'keypoints': list(kpts), 'score': score}


def test_swap_and_perfect_detection():
    a, b = _person(1, 0)['keypoints'], _person(2, 300)['keypoints']
    swapped = list(a)
    swapped[0:2] = b[0:2]  # person A's nose detected on person B's nose
    res = keypoint_error_analysis(_gt(_person(1, 0), _person(2, 300)),
                                  [_det(swapped, 0.9), _det(b, 0.8)], SIGMAS, FLIP)
    assert res['counts'] == {'good': 5, 'jitter': 0, 'inversion': 0, 'swap': 1, 'miss': 0}
    assert res['bkg_fp'] == 0 and res['fn'] == 0 and res['matched'] == 2
    assert res['ap']['original'] < 1
    assert res['ap_gain']['swap'] > 0 and res['ap_gain']['miss'] == 0


def test_inversion_jitter_miss_and_background():
    a, b = _person(1, 0)['keypoints'], _person(2, 300)['keypoints']
    inv = list(a)
    inv[3:5], inv[6:8] = a[6:8], a[3:5]  # left and right exchanged
    jit_miss = list(b)
    jit_miss[0] += 15  # ks = exp(-225/800) = 0.75: jitter
    jit_miss[3] -= 150  # far from everything: miss
    bkg = [700, 150, 1, 720, 180, 1, 740, 180, 1]  # matches nobody
    res = keypoint_error_analysis(_gt(_person(1, 0), _person(2, 300)),
                                  [_det(inv, 0.9), _det(jit_miss, 0.8), _det(bkg, 0.95)],
                                  SIGMAS, FLIP)
    assert res['counts'] == {'good': 2, 'jitter': 1, 'inversion': 2, 'swap': 0, 'miss': 1}
    # the inverted detection has OKS 0.34 with its person: at every OKS threshold >= 0.5
    # it is a background FP and its person a false negative (the reference's counts)
    assert res['bkg_fp'] == 2 and res['fn'] == 1
    assert res['ap']['fn'] == pytest.approx(1.0)
    for t in ('miss', 'inversion', 'jitter'):
        assert res['ap_gain'][t] > 0


def test_area_range_and_unlabelled_persons():
    """Small persons are classified under the reference's range but ignored in its AP;
    a detection matched to a person without keypoints is matched, then skipped."""
    small, unl = _person(1, 0, area=500), _person(2, 300, nk=0)
    dets = [_det(small['keypoints'], 0.9), _det(_person(9, 300)['keypoints'], 0.8)]
    res = keypoint_error_analysis(_gt(small, unl), dets, SIGMAS, FLIP)
    assert res['matched'] == 1 and res['counts']['good'] == 3
    assert res['ap']['original'] == -1  # nobody in [32^2, 1e10]: COCO's "no ground truth"
    res = keypoint_error_analysis(_gt(small, unl), dets, SIGMAS, FLIP, area_rng=COCO_ALL)
    assert res['ap']['original'] == pytest.approx(1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match='flip_indices'):
        keypoint_error_analysis(_gt(_person(1, 0)), [], SIGMAS, [0, 1])
    with pytest.raises(ValueError, match='variant'):
        keypoint_error_analysis(_gt(_person(1, 0)), [], SIGMAS, FLIP, variant='x')


def test_several_keypoint_categories_extension():
    """Each category analysed as the reference analyses persons: counts add up, and the
    original AP is COCOeval's mAP over the categories."""
    from lth_mm.analysis.coco_breakdown import coco_eval
    r = REF['synth5']
    gt, dets = _load('synth5', 'gt'), _load('synth5', 'dets')
    gt['categories'].append(dict(gt['categories'][0], id=2, name='other'))
    for x in gt['annotations'] + dets:
        x['category_id'] = 1 + x['image_id'] % 2
    both = keypoint_error_analysis(gt, dets, r['sigmas'], r['flip_indices'], COCO_ALL)
    singles = []
    for c in (1, 2):
        g = dict(gt, annotations=[a for a in gt['annotations'] if a['category_id'] == c],
                 categories=[dict(k, id=1) for k in gt['categories'] if k['id'] == c])
        for a in g['annotations']:
            a['category_id'] = 1
        d = [dict(x, category_id=1) for x in dets if x['category_id'] == c]
        singles.append(keypoint_error_analysis(g, d, r['sigmas'], r['flip_indices'],
                                               COCO_ALL))
        for a in g['annotations']:
            a['category_id'] = c
    assert both['counts'] != singles[0]['counts']
    for k in ('matched', 'bkg_fp', 'fn'):
        assert both[k] == singles[0][k] + singles[1][k]
    ref = coco_eval(gt, dets, 'keypoints', sigmas=r['sigmas'])['stats']['AP']
    assert both['ap']['original'] == pytest.approx(ref, abs=1e-12)
    assert both['ap']['jitter'] == pytest.approx(
        (singles[0]['ap']['jitter'] + singles[1]['ap']['jitter']) / 2)
