# Copyright (c) lth_mm authors. All rights reserved.
"""Read what a lottery work_dir holds for the analyses (every file through lth_mm.paths).

Missing pieces are simply absent from the result: a run without the analysis hooks still
gives its summary, sparsities and per-layer statistics.
"""
import json
import os.path as osp
import re
from typing import Optional

from .. import paths
from ..report import load_summary

# File names inside paths.results_dir(); written by EvalArtifactsHook.
COCO_EVAL_JSON = paths.COCO_EVAL_JSON  # the names are defined in lth_mm.paths
META_JSON = paths.META_JSON
RESULT_PREFIX = paths.RESULT_PREFIX


def _json(path: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def result_file(work_dir: str, r: int, iou_type: str) -> Optional[str]:
    """A round's COCO results file for ``iou_type`` (None if absent)."""
    p = osp.join(paths.results_dir(work_dir, r), f'{RESULT_PREFIX}.{iou_type}.json')
    return p if osp.isfile(p) else None


def gt_file(meta: Optional[dict], iou_type: str) -> Optional[str]:
    """The ground-truth file of ``iou_type`` recorded in a round's ``meta.json``."""
    meta = meta or {}
    return (meta.get('gt_files') or {}).get(iou_type) or meta.get('gt_file')


def group_name(work_dir: str) -> str:
    """The name of a run's seed group: its seeds share it and are averaged.

    ``tools/seeds.py`` writes ``<root>/seed_<s>/`` (the group is ``<root>``'s name); a run
    named ``X_seed1`` / ``X-s2`` is in group ``X``; any other run is its own group.
    """
    path = osp.normpath(osp.abspath(work_dir))
    name = osp.basename(path)
    if re.fullmatch(paths.SEED_PREFIX + r'-?\d+', name):
        return osp.basename(osp.dirname(path))
    return re.sub(r'[-_.](seed|s)\d+$', '', name)


def round_label(row: dict) -> str:
    """``dense`` or e.g. ``r1 ticket 78.9%``: network sparsity, as every figure's x-axis."""
    if row['kind'] == 'dense':
        return 'dense'
    return f"r{row['round']} {row['kind']} {100 * row['network_sparsity']:.1f}%"


def load_run(work_dir: str) -> dict:
    """Everything the report needs from one work_dir.

    Args:
        work_dir: a lottery experiment's work_dir (with ``lottery_summary.json``).

    Returns:
        dict: ``work_dir``, ``name``, ``group``, ``settings``, ``rows`` (summary rows),
        ``rounds`` (``{r: {'row', 'work_dir', 'coco_eval', 'meta', 'val_loss',
        'ticket'}}``, the last four where present) and ``early_bird`` (or None).

    Raises:
        FileNotFoundError: no summary there (the message says so).
    """
    summary = load_summary(work_dir)
    run = dict(work_dir=work_dir, name=osp.basename(osp.normpath(work_dir)),
               group=group_name(work_dir), settings=summary.get('settings', {}),
               rows=sorted(summary.get('rounds', []), key=lambda r: r['round']), rounds={})
    for row in run['rows']:
        r = row['round']
        rd = {}
        res = paths.results_dir(work_dir, r)
        for key, name in (('coco_eval', COCO_EVAL_JSON), ('meta', META_JSON)):
            v = _json(osp.join(res, name))
            if v is not None:
                rd[key] = v
        v = _json(paths.val_loss_json(work_dir, r))
        if v is not None:
            rd['val_loss'] = v
        if osp.isfile(paths.ticket(work_dir, r)):
            rd['ticket'] = paths.ticket(work_dir, r)
        rd['row'] = row
        rd['work_dir'] = work_dir
        run['rounds'][r] = rd
    run['early_bird'] = _json(paths.early_bird_json(work_dir))
    return run
