# Copyright (c) lth_mm authors. All rights reserved.
"""TIDE error attribution (Bolya et al., ECCV 2020) through ``tidecv``, dense vs tickets.

A thin wrapper: tidecv does the matching and the attribution; this module feeds it the
files the ``EvalArtifactsHook`` kept and returns plain dicts for the report. Each run gets
its own ``TIDE`` object, so runs cannot share state; tests/test_analysis_checks.py checks
the numbers against tidecv called directly and TIDE's AP50 against COCOeval's.

tidecv reports six main errors. The paper (Figs 7-8) draws five, under its own names:
Cls, Loc, Dupe, Bkgd (tidecv's ``Bkg``), Missed (``Miss``). The sixth, ``Both`` (wrong
class *and* IoU between the background and foreground thresholds), is a separate TIDE
error, not part of Cls or Loc: it is kept in the results and in the report's table, and
left out of the figure as in the paper.
"""
import contextlib
import io
from typing import Dict, Mapping

# The errors the paper shows (Figs 7-8), as tidecv names them, and the paper's names.
MAIN_ERRORS = ('Cls', 'Loc', 'Dupe', 'Bkg', 'Miss')
PAPER_NAMES = {'Cls': 'Cls', 'Loc': 'Loc', 'Dupe': 'Dupe', 'Bkg': 'Bkgd', 'Miss': 'Missed',
               'Both': 'Both'}
ALL_ERRORS = ('Cls', 'Loc', 'Both', 'Dupe', 'Bkg', 'Miss')
# tidecv's dAP is a difference of two APs: an error that changes nothing leaves float
# noise (1e-14) where the answer is 0; anything below this is reported as 0.
NOISE = 1e-9


def _clean(v: float) -> float:
    v = float(v)
    return 0.0 if abs(v) < NOISE else v


def tide_errors(gt_json: str, results: Mapping[str, str], mode: str = 'bbox') -> Dict[str, dict]:
    """Run TIDE on several result files against one ground truth.

    Args:
        gt_json: COCO ground-truth file (a local path: tidecv would download COCO without).
        results: ``{run name: COCO results json}`` (segm results run-length encoded, as
            mmdet writes them).
        mode: ``'bbox'`` or ``'segm'``.

    Returns:
        dict: ``{run name: {'AP50': mAP at IoU 0.5 (%), 'Cls': dAP, 'Loc', 'Both', 'Dupe',
        'Bkg', 'Miss'}}``; dAP is the AP50 (in points) gained by fixing that error alone.
    """
    from tidecv import TIDE, datasets
    if mode not in ('bbox', 'segm'):
        raise ValueError(f"TIDE mode must be 'bbox' or 'segm', got {mode!r}.")
    tmode = TIDE.BOX if mode == 'bbox' else TIDE.MASK
    out = {}
    with contextlib.redirect_stdout(io.StringIO()):
        gt = datasets.COCO(path=gt_json, name='gt')
        for name, path in results.items():
            tide = TIDE()
            tide.evaluate(gt, datasets.COCOResult(path, name=name), mode=tmode, name=name)
            main = tide.get_main_errors()[name]
            row = {k: _clean(main[k]) for k in ALL_ERRORS}
            row['AP50'] = float(tide.runs[name].ap)
            out[name] = row
    return out
