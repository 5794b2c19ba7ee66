# Copyright (c) lth_mm authors. All rights reserved.
"""The per-round summary of a lottery experiment: its writer, its reader and its table.

``work_dir/lottery_summary.json`` (see :mod:`lth_mm.paths`) is written here and read here.
Other hooks add fields to the current round's row with :func:`add_round_extras` (during the
round, or in their own ``after_lottery_round`` at a priority higher than the
``LotteryHook``'s ``BELOW_NORMAL``); the row is written when the round ends.
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
_HEADLINE = re.compile(r'(bbox_mAP|segm_mAP|/AP|/mAP|^mAP)$')


def headline_metrics(rows: Sequence[dict], limit: int = 4) -> List[str]:
    """The metric keys worth a column (e.g. ``coco/bbox_mAP``), in first-seen order."""
    keys = []
    for row in rows:
        for k in row.get('metrics', {}):
            if _HEADLINE.search(k) and k not in keys:
                keys.append(k)
    return keys[:limit]


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
