# Copyright (c) lth_mm authors. All rights reserved.
"""TIDE error attribution (Bolya et al., ECCV 2020) through ``tidecv``, dense vs tickets.

A thin wrapper: tidecv does the matching and the attribution; this module feeds it the
files the ``EvalArtifactsHook`` kept and returns plain dicts for the report.
"""
import contextlib
import io
from typing import Dict, Mapping

# The errors the paper shows (Figs 7-8); tidecv also reports `Both`.
MAIN_ERRORS = ('Cls', 'Loc', 'Dupe', 'Bkg', 'Miss')


def tide_errors(gt_json: str, results: Mapping[str, str], mode: str = 'bbox') -> Dict[str, dict]:
    """Run TIDE on several result files against one ground truth.

    Args:
        gt_json: COCO ground-truth file (a local path: tidecv would download COCO without).
        results: ``{run name: COCO results json}``; names must be distinct.
        mode: ``'bbox'`` or ``'segm'``.

    Returns:
        dict: ``{run name: {'AP50': mAP at IoU 0.5 (%), 'Cls': dAP, 'Loc': ..., 'Both',
        'Dupe', 'Bkg', 'Miss'}}``; dAP is the AP (in points) gained by fixing that error.
    """
    from tidecv import TIDE, datasets
    if mode not in ('bbox', 'segm'):
        raise ValueError(f"TIDE mode must be 'bbox' or 'segm', got {mode!r}.")
    tide = TIDE()
    tmode = TIDE.BOX if mode == 'bbox' else TIDE.MASK
    with contextlib.redirect_stdout(io.StringIO()):
        gt = datasets.COCO(path=gt_json, name='gt')
        for name, path in results.items():
            tide.evaluate(gt, datasets.COCOResult(path, name=name), mode=tmode, name=name)
        main = tide.get_main_errors()
    out = {}
    for name in results:
        row = {k: float(v) for k, v in main[name].items()}
        row['AP50'] = float(tide.runs[name].ap)
        out[name] = row
    return out
