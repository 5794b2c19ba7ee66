# Copyright (c) lth_mm authors. All rights reserved.
"""The per-round summary of a lottery experiment: its writer, its reader and its table.

``work_dir/lottery_summary.json`` (see :mod:`lth_mm.paths`) is written here and read here.
Hooks of a round's Runner add fields to that round's row with :func:`add_round_extras`
(at any point of the run, ``after_train`` included); the orchestrator writes the row once
the round's Runner has finished (:mod:`lth_mm.engine.experiment`).
"""
import json
import os.path as osp
import re
from typing import Any, List, Sequence

from terminaltables import AsciiTable

from . import paths
from .fileio import atomic_write_json, atomic_write_text

ROUND_EXTRAS_KEY = 'lottery/round_extras'

# Headline metrics shown in the table: mmdet COCO/VOC and mmpose COCO keys.
_HEADLINE = re.compile(r'(bbox_mAP|segm_mAP|keypoints_mAP|/AP|/mAP|^mAP)$')
# The task's main metric comes first: keypoint AP (lth_mm's and mmpose's keys) for keypoint
# models, then box and mask AP (Mask R-CNN: both), then the rest in first-seen order.
_MAIN_ORDER = (re.compile(r'keypoints_mAP$'), re.compile(r'^(coco|kpt)/AP$'),
               re.compile(r'bbox_mAP$'), re.compile(r'segm_mAP$'))


def _rank(key: str) -> int:
    for i, pat in enumerate(_MAIN_ORDER):
        if pat.search(key):
            return i
    return len(_MAIN_ORDER)


def headline_metrics(rows: Sequence[dict], limit: int = 4) -> List[str]:
    """The metric keys worth a column, the task's main metric first.

    Args:
        rows: summary rows (each with ``metrics``).
        limit: at most this many keys.

    Returns:
        list[str]: e.g. ``['coco/keypoints_mAP', 'coco/bbox_mAP']`` for Keypoint R-CNN,
        ``['coco/bbox_mAP', 'coco/segm_mAP']`` for Mask R-CNN.
    """
    keys = []
    for row in rows:
        for k in row.get('metrics', {}):
            if _HEADLINE.search(k) and k not in keys:
                keys.append(k)
    keys.sort(key=_rank)  # stable: first-seen order within a rank
    return keys[:limit]


def main_metrics(rows: Sequence[dict]) -> List[str]:
    """The task's main metrics: keypoint AP alone for keypoint models, else box and mask AP
    (those present), else the first headline metric."""
    keys = headline_metrics(rows)
    kpt = [k for k in keys if _rank(k) < 2]
    if kpt:
        return kpt[:1]
    det = [k for k in keys if _rank(k) in (2, 3)]
    return det or keys[:1]


_LABELS = ((r'keypoints_mAP$|^(coco|kpt)/AP$', 'keypoint AP'), (r'bbox_mAP$', 'box AP'),
           (r'segm_mAP$', 'mask AP'), (r'bbox_mAP_50$', 'box AP50'),
           (r'segm_mAP_50$', 'mask AP50'), (r'(^|/)mAP$', 'mAP'),
           (r'accuracy/top1$', 'top-1 accuracy'), (r'accuracy/top5$', 'top-5 accuracy'))
_FRACTION = re.compile(r'(mAP(_\w+)?|/AP\w*)$')  # COCO / VOC metrics are in [0, 1]


def metric_label(key: str) -> str:
    """A human-readable name of a metric key: ``coco/bbox_mAP`` -> ``box AP``."""
    for pat, label in _LABELS:
        if re.search(pat, key):
            return label
    return key


def metric_scale(key: str) -> float:
    """100 for metrics that mmdet/mmpose report as fractions (shown in %), else 1."""
    return 100.0 if _FRACTION.search(key) else 1.0


def format_summary_table(rows: Sequence[dict]) -> str:
    """An ASCII table of the per-round summary.

    Args:
        rows: ``lottery_summary.json['rounds']``.

    Returns:
        str: the table.
    """
    keys = headline_metrics(rows)
    data = [['round', 'kind', 'keep', 'prunable sp.', 'network sp.'] + keys]
    for r in rows:
        m = r.get('metrics', {})
        data.append([
            str(r['round']), r['kind'], f"{r['keep_ratio']:.3f}",
            f"{100 * r['prunable_sparsity']:.2f}%", f"{100 * r['network_sparsity']:.2f}%"
        ] + [f'{m[k]:.4f}' if isinstance(m.get(k), (int, float)) else '-' for k in keys])
    table = AsciiTable(data)
    table.inner_footing_row_border = False
    return table.table


def add_round_extras(message_hub, **fields: Any) -> None:
    """Add fields to the current round's summary row (e.g. ``compact_bytes=...``).

    Args:
        message_hub: the runner's ``MessageHub`` (``runner.message_hub``).
        **fields: JSON-serialisable values; they land in the row's ``extras`` dict.
    """
    extras = dict(message_hub.get_info(ROUND_EXTRAS_KEY, None) or {})
    extras.update(fields)
    message_hub.update_info(ROUND_EXTRAS_KEY, extras)


def pop_round_extras(message_hub) -> dict:
    """Take (and clear) the fields added with :func:`add_round_extras` this round."""
    extras = dict(message_hub.get_info(ROUND_EXTRAS_KEY, None) or {})
    message_hub.update_info(ROUND_EXTRAS_KEY, {})
    return extras


def write_summary(work_dir: str, summary: dict) -> None:
    """Write ``lottery_summary.json`` and ``lottery_summary.txt`` atomically.

    Args:
        work_dir: the experiment's work_dir.
        summary: ``{'plan', 'settings', 'network_params', 'rounds': [row, ...]}``.
    """
    atomic_write_json(summary, paths.summary_json(work_dir))
    atomic_write_text(format_summary_table(summary.get('rounds', [])) + '\n',
                      paths.summary_txt(work_dir))


def load_summary(work_dir_or_file: str) -> dict:
    """Read ``lottery_summary.json`` from a work dir (or the file itself)."""
    path = work_dir_or_file
    if osp.isdir(path):
        path = paths.summary_json(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: has a lottery round finished there yet?')
    with open(path) as f:
        return json.load(f)
