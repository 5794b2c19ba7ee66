# Copyright (c) lth_mm authors. All rights reserved.
"""Per-layer pruning statistics of a ticket: where global pruning takes weights (Fig. 2c)."""
from typing import Dict, List, Mapping

from ..pruning import MaskSet, group_of


def per_layer_stats(masks: MaskSet) -> List[dict]:
    """One row per masked tensor, in the ticket's (``named_parameters``) order.

    Args:
        masks: the ticket's masks.

    Returns:
        list[dict]: ``name``, ``group`` (module group, e.g. ``backbone_base``), ``numel``,
        ``kept`` and ``pruned_pct`` (% of the tensor's weights pruned).
    """
    rows = []
    for name, s in masks.per_tensor().items():
        rows.append(dict(name=name, group=group_of(name), numel=int(s['numel']),
                         kept=int(s['kept']), pruned_pct=100.0 * s['sparsity']))
    return rows


def per_group_stats(rows: List[Mapping]) -> Dict[str, dict]:
    """Sum :func:`per_layer_stats` rows by module group.

    Returns:
        dict: ``{group: {'numel', 'kept', 'pruned_pct'}}`` in first-seen order.
    """
    out: Dict[str, dict] = {}
    for r in rows:
        g = out.setdefault(r['group'], dict(numel=0, kept=0))
        g['numel'] += r['numel']
        g['kept'] += r['kept']
    for g in out.values():
        g['pruned_pct'] = 100.0 * (1 - g['kept'] / max(g['numel'], 1))
    return out
