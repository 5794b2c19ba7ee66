"""Unit tests of lth_mm.analysis on hand-made cases with known answers."""
import json
import math

import numpy as np
import pytest
import torch

from lth_mm.analysis import (EarlyBirdTracker, coco_eval, difficulty_bins, frequency_bins,
                             mask_hamming, mask_iou,
                             per_category_ap, per_layer_stats, stable_from)
from lth_mm.analysis.coco_breakdown import percent_change, size_changes
from lth_mm.analysis.early_bird import iou_from_hamming, packed_hamming, packed_iou
from lth_mm.pruning import MaskSet


def _box_gt(boxes, cats=('a', 'b'), size=200):
    """A one-image COCO detection GT: boxes = [(category_id, [x, y, w, h]), ...]."""
    return {
        'images': [{'id': 1, 'width': size, 'height': size, 'file_name': '1.png'}],
        'categories': [{'id': i + 1, 'name': n} for i, n in enumerate(cats)],
        'annotations': [{'id': i + 1, 'image_id': 1, 'category_id': c, 'bbox': b,
                         'area': b[2] * b[3], 'iscrowd': 0,
                         'segmentation': [[b[0], b[1], b[0] + b[2], b[1], b[0] + b[2],
                                           b[1] + b[3], b[0], b[1] + b[3]]]}
                        for i, (c, b) in enumerate(boxes)],
    }


def _det(c, b, s=0.9):
    return {'image_id': 1, 'category_id': c, 'bbox': b, 'score': s}


# ----------------------------------------------------------------- per-category / size / bins
def test_per_category_ap_two_categories():
    gt = _box_gt([(1, [10, 10, 40, 40]), (1, [100, 100, 40, 40]),
                  (2, [10, 100, 40, 40]), (2, [100, 10, 40, 40])])
    res = [_det(1, [10, 10, 40, 40]), _det(1, [100, 100, 40, 40]), _det(2, [10, 100, 40, 40])]
    ev = coco_eval(gt, res, 'bbox')
    ap = per_category_ap(ev)
    assert ap['a'] == pytest.approx(1.0)
    # category b: recall 0.5 at precision 1 -> 51 of COCO's 101 recall points
    assert ap['b'] == pytest.approx(51 / 101)
    assert ev['stats']['AP'] == pytest.approx((1 + 51 / 101) / 2)
    assert ev['per_category']['a']['num_gt'] == 2
    # all boxes are 1600 px^2: "medium"; no small/large objects -> -1 from COCOeval
    assert ev['stats']['AP_small'] == -1 and ev['stats']['AP_medium'] > 0


def test_no_detections_give_zero_ap():
    gt = _box_gt([(1, [10, 10, 40, 40])])
    ev = coco_eval(gt, [], 'bbox')
    assert ev['stats']['AP'] == 0 and ev['per_category']['a']['AP'] == 0
    assert math.isnan(ev['per_category']['b']['AP'])  # no ground truth for b


def test_percent_change_and_bins():
    assert percent_change(0.3, 0.4) == pytest.approx(-25.0)
    assert math.isnan(percent_change(0.3, 0.0))
    assert size_changes({'AP_small': 0.2, 'AP_medium': 0.4, 'AP_large': -1},
                        {'AP_small': 0.1, 'AP_medium': 0.4, 'AP_large': -1}) == {
                            'AP_small': pytest.approx(-50.0), 'AP_medium': 0.0}
    dense = {'rare': 0.2, 'mid': 0.4, 'common': 0.6, 'huge': 0.8}
    ticket = {'rare': 0.1, 'mid': 0.3, 'common': 0.6, 'huge': 0.8}
    counts = {'rare': 5, 'mid': 50, 'common': 500, 'huge': 5000}
    bins = frequency_bins(counts, dense, ticket, n_bins=2)
    assert [b['categories'] for b in bins] == [['rare', 'mid'], ['common', 'huge']]
    assert bins[0]['change_pct'] == pytest.approx(100 * (0.2 - 0.3) / 0.3)
    assert bins[1]['change_pct'] == pytest.approx(0.0)
    assert (bins[0]['key_min'], bins[0]['key_max']) == (5, 50)
    # four categories: at most two bins (a bin of one category says little), hardest first
    hard = difficulty_bins(dense, ticket, n_bins=4)
    assert [b['categories'] for b in hard] == [['rare', 'mid'], ['common', 'huge']]
    assert hard[0]['change_pct'] == pytest.approx(100 * (0.2 - 0.3) / 0.3)


def test_bins_adapt_and_keep_ties_together():
    ap = {c: v for c, v in zip('abcdefgh', [0.7, 0.7, 0.7, 0.2, 0.3, 0.9, 0.5, 0.5])}
    bins = difficulty_bins(ap, ap, n_bins=4)
    seen = [c for b in bins for c in b['categories']]
    assert seen == sorted(ap, key=lambda c: (ap[c], c))
    assert all(len(b['categories']) >= 2 for b in bins)
    # equal values never straddle two bins, and no bin repeats another's range
    assert all(a['key_max'] < b['key_min'] for a, b in zip(bins, bins[1:]))
    assert len(difficulty_bins({'x': 0.5, 'y': 0.5, 'z': 0.5}, {'x': 0.5, 'y': 0.5,
                                                              'z': 0.5}, n_bins=3)) == 1
    assert len(frequency_bins({'x': 3, 'y': 5}, {'x': .1, 'y': .2}, {'x': .1, 'y': .2})) == 1
    near = {'a': 1.0, 'b': 1 - 1e-13, 'c': 1.0, 'd': 1 - 1e-14}  # float noise: one value
    assert len(difficulty_bins(near, near, n_bins=2)) == 1


# ----------------------------------------------------------------- TIDE
def _tide(tmp_path, gt, res):
    from lth_mm.analysis.tide import tide_errors
    g, r = tmp_path / 'gt.json', tmp_path / 'res.json'
    g.write_text(json.dumps(gt))
    r.write_text(json.dumps(res))
    return tide_errors(str(g), {'run': str(r)}, 'bbox')['run']


def test_tide_classification_error(tmp_path):
    gt = _box_gt([(1, [10, 10, 40, 40]), (2, [100, 100, 40, 40])])
    # the second box is found at the right place with the wrong class
    e = _tide(tmp_path, gt, [_det(1, [10, 10, 40, 40]), _det(1, [100, 100, 40, 40])])
    assert e['Cls'] > 0
    assert e['Loc'] == 0 and e['Dupe'] == 0 and e['Bkg'] == 0


def test_tide_localisation_error(tmp_path):
    gt = _box_gt([(1, [10, 10, 40, 40]), (2, [100, 100, 40, 40])])
    # right class, IoU 0.33 (between TIDE's background 0.1 and foreground 0.5)
    e = _tide(tmp_path, gt, [_det(1, [10, 10, 40, 40]), _det(2, [120, 100, 40, 40])])
    assert e['Loc'] > 0
    assert e['Cls'] == 0 and e['Bkg'] == 0 and e['Dupe'] == 0


# ----------------------------------------------------------------- early bird / layers
def test_mask_distances_known_values():
    a = np.array([1, 1, 0, 0, 1, 0, 0, 0], bool)
    b = np.array([1, 0, 1, 0, 1, 0, 0, 0], bool)
    assert mask_hamming(a, b) == pytest.approx(2 / 8)
    assert mask_iou(a, b) == pytest.approx(2 / 4)
    # equal densities: IoU from the distance, (d - h/2) / (d + h/2)
    assert iou_from_hamming(3 / 8, 2 / 8) == pytest.approx(mask_iou(a, b))
    pa, pb = np.packbits(a), np.packbits(b)
    assert packed_hamming(pa, pb, 8) == mask_hamming(a, b)
    assert packed_iou(pa, pb, 8) == mask_iou(a, b)
    assert stable_from([0.5, 0.96, 0.9, 0.95, 0.99, 1.0]) == 3
    assert stable_from([0.5, 0.9]) is None


def test_early_bird_rule_window():
    t = EarlyBirdTracker(eps=0.1, window=3)
    base = np.zeros(100, bool)
    base[:20] = True
    far = np.zeros(100, bool)
    far[50:70] = True
    assert not t.update(far)['converged']
    r = t.update(base)
    assert r['max_distance'] is None and r['distances'] == [pytest.approx(0.4)]
    near = base.copy()
    near[19], near[20] = False, True  # distance 0.02
    r = t.update(near)  # FIFO full: far, base, near -> max distance 0.4
    assert r['max_distance'] == pytest.approx(0.4) and not r['converged']
    r = t.update(base)  # base, near, base -> 0.02
    assert r['converged'] and r['max_distance'] == pytest.approx(0.02)


def test_per_layer_stats():
    masks = MaskSet({'backbone.layer1.0.conv1.weight': torch.tensor([1, 0, 0, 0], dtype=torch.bool),
                     'roi_head.bbox_head.shared_fcs.0.weight': torch.ones(2, 2, dtype=torch.bool)})
    rows = per_layer_stats(masks)
    assert [r['pruned_pct'] for r in rows] == [75.0, 0.0]
    assert rows[0]['group'] == 'backbone_base' and rows[1]['group'] == 'box_head'
