# Copyright (c) lth_mm authors. All rights reserved.
"""TIDE and the COCO breakdowns against the reference tools, on the fixtures of
tests/fixtures/coco_breakdown (made by make_fixtures.py there): tidecv called directly, and
COCOeval's own per-category evaluation."""
import contextlib
import io
import json
import os.path as osp

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from lth_mm.analysis.coco_breakdown import (coco_eval, difficulty_bins, frequency_bins,
                                            per_category_ap, percent_change, size_changes)

FIX = osp.join(osp.dirname(__file__), 'fixtures', 'coco_breakdown')
GT = osp.join(FIX, 'gt.json')
RUNS = ('dense', 'ticket')


def _res(run, mode):
    return osp.join(FIX, f'{run}.{mode}.json')


def _cocoeval(mode, run, cat_ids=None):
    """COCOeval's own summary, optionally on some categories only."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(GT)
        ev = COCOeval(gt, gt.loadRes(_res(run, mode)), mode)
        if cat_ids is not None:
            ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


@pytest.mark.parametrize('mode', ['bbox', 'segm'])
def test_tide_equals_tidecv_called_directly(mode):
    pytest.importorskip('tidecv')
    from tidecv import TIDE, datasets

    from lth_mm.analysis.tide import ALL_ERRORS, tide_errors
    ours = tide_errors(GT, {r: _res(r, mode) for r in RUNS}, mode)
    assert list(ours) == list(RUNS)
    for run in RUNS:
        tide = TIDE()  # a fresh TIDE and ground truth per run: nothing shared
        with contextlib.redirect_stdout(io.StringIO()):
            tide.evaluate(datasets.COCO(path=GT), datasets.COCOResult(_res(run, mode)),
                          mode=TIDE.BOX if mode == 'bbox' else TIDE.MASK, name=run)
            ref = tide.get_main_errors()[run]
        for k in ALL_ERRORS:
            assert ours[run][k] == pytest.approx(ref[k], abs=1e-9), (run, k)
            assert ours[run][k] == 0 or abs(ours[run][k]) > 1e-9  # no float noise left
        # TIDE's AP50 is COCOeval's AP50 (an independent implementation)
        assert ours[run]['AP50'] == pytest.approx(100 * _cocoeval(mode, run)[1], abs=1e-9)
    # the fixtures hold every error type, and the two runs differ
    assert all(ours['dense'][k] > 0 for k in ALL_ERRORS)
    assert ours['dense'] != ours['ticket']


@pytest.mark.parametrize('mode', ['bbox', 'segm'])
def test_breakdowns_equal_cocoeval_per_category(mode):
    with open(GT) as f:
        gt = json.load(f)
    names = {c['id']: c['name'] for c in gt['categories']}
    evals = {r: coco_eval(GT, _res(r, mode), mode) for r in RUNS}
    for run, ev in evals.items():
        ref = _cocoeval(mode, run)
        for i, k in enumerate(('AP', 'AP50', 'AP75', 'AP_small', 'AP_medium', 'AP_large')):
            assert ev['stats'][k] == pytest.approx(ref[i], abs=1e-12)
        for cid, name in names.items():  # COCOeval run on this category alone
            ref = _cocoeval(mode, run, [cid])
            row = ev['per_category'][name]
            for i, k in ((0, 'AP'), (3, 'AP_small'), (4, 'AP_medium'), (5, 'AP_large')):
                want = float('nan') if ref[i] == -1 else ref[i]
                assert row[k] == pytest.approx(want, abs=1e-12, nan_ok=True), (name, k)
    dense, ticket = (per_category_ap(evals[r]) for r in RUNS)
    # size: the % change of COCOeval's own AP_small / medium / large
    d, t = _cocoeval(mode, 'dense'), _cocoeval(mode, 'ticket')
    ch = size_changes(evals['dense']['stats'], evals['ticket']['stats'])
    for i, k in ((3, 'AP_small'), (4, 'AP_medium'), (5, 'AP_large')):
        assert ch[k] == pytest.approx(100 * (t[i] - d[i]) / d[i])
    # frequency: categories ordered by instance count, each bin the mean of its members
    counts = {names[c]: sum(a['category_id'] == c for a in gt['annotations']) for c in names}
    bins = frequency_bins(counts, dense, ticket, n_bins=3)
    assert [c for b in bins for c in b['categories']] == sorted(counts,
                                                                key=lambda c: (counts[c], c))
    for b in bins:
        assert b['dense_AP'] == pytest.approx(np.mean([dense[c] for c in b['categories']]))
        assert b['change_pct'] == pytest.approx(
            percent_change(np.mean([ticket[c] for c in b['categories']]), b['dense_AP']))
    # difficulty: hardest (lowest dense AP) first; six categories, at most three bins
    hard = difficulty_bins(dense, ticket, n_bins=6)
    assert [c for b in hard for c in b['categories']] == sorted(dense, key=dense.get)
    assert [len(b['categories']) for b in hard] == [2, 2, 2]
