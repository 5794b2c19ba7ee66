# Copyright (c) lth_mm authors. All rights reserved.
"""Text reports of a lottery experiment (pure Python)."""
import json
import os.path as osp
import re
from typing import List, Sequence

from terminaltables import AsciiTable

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


def load_summary(work_dir_or_file: str) -> dict:
    """Read ``lottery_summary.json`` from a work dir (or the file itself)."""
    path = work_dir_or_file
    if osp.isdir(path):
        path = osp.join(path, 'lottery_summary.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: has a lottery round finished there yet?')
    with open(path) as f:
        return json.load(f)
