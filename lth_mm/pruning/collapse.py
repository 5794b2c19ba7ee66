# Copyright (c) lth_mm authors. All rights reserved.
"""Layer collapse: the per-tensor density floor and its report (pure PyTorch).

Global magnitude pruning can remove (nearly) every weight of a tensor whose weights are
small compared with the rest of the model (Tanaka et al. 2020 call it *layer collapse*):
Cascade R-CNN's ``shared_fcs.0`` (12.8M weights, small by fan-in scaled init) goes to 0%
density at keep 0.2, and a zero-initialised offset generator has nothing to rank. Two tools
here: :func:`floor_counts` (``lottery.min_density``: a per-tensor floor the criteria keep)
and :func:`collapsed_tensors` / :func:`format_collapse` (name every tensor under a density
floor after a pruning, so that a collapse is never silent).
"""
import math
from typing import Dict, List, Mapping, Optional, Tuple

import torch

Tensor = torch.Tensor

# Default density under which a pruned tensor is reported as collapsed (1%).
COLLAPSE_FLOOR = 0.01


def floor_count(min_density: Optional[float], numel: int) -> int:
    """The number of weights a tensor of ``numel`` weights keeps at least.

    Rounding: ``ceil(min_density * numel)``, so that ``kept / numel >= min_density`` holds
    for every tensor; a tolerance of 1e-6 weights absorbs the binary error of decimal
    floors (``0.07 * 100`` is 7.000000000000001 in floating point, and the floor is 7).

    Args:
        min_density: the floor, in [0, 1], or None (no floor).
        numel: the tensor's size.

    Returns:
        int: the floor count (0 without a floor).
    """
    if not min_density:
        return 0
    return min(numel, max(0, math.ceil(float(min_density) * numel - 1e-6)))


def floor_counts(masks: Mapping[str, Tensor], min_density: Optional[float],
                 budget: Optional[int] = None, what: str = 'min_density') -> Dict[str, int]:
    """Per-tensor floor counts, checked against what is alive and the keep budget.

    Args:
        masks: current masks (bool or 0/1) by name: a floor cannot revive a pruned weight.
        min_density: the floor, or None.
        budget: the number of weights the criterion keeps in all (``round(keep * N)``).
        what: the criterion's name for error messages.

    Returns:
        dict[str, int]: floor count per name (all 0 without a floor).

    Raises:
        ValueError: a tensor has fewer live weights than its floor (an earlier round
            pruned it under the floor), or the floors together exceed the budget (the floor
            is too close to the keep ratio for this model's rounding).
    """
    counts = {n: floor_count(min_density, m.numel()) for n, m in masks.items()}
    if not min_density:
        return counts
    for n, f in counts.items():
        alive = int(torch.count_nonzero(masks[n]))
        if alive < f:
            raise ValueError(
                f'{what}: min_density={min_density} needs {f} weights of {n!r}, only {alive} '
                'are alive (an earlier pruning went under the floor; use the same '
                'min_density in every round).')
    if budget is not None and sum(counts.values()) > budget:
        raise ValueError(
            f'{what}: the floors of min_density={min_density} need {sum(counts.values()):,} '
            f'weights (ceil per tensor), more than the {budget:,} the keep ratio keeps; '
            'lower min_density below the keep ratio.')
    return counts


def collapsed_tensors(masks: Mapping[str, Tensor],
                      floor: float = COLLAPSE_FLOOR) -> List[Tuple[str, float, int]]:
    """The tensors whose density (kept / numel) is below ``floor``.

    Args:
        masks: masks by name (bool or 0/1 tensors, or a :class:`~lth_mm.pruning.MaskSet`).
        floor: the density under which a tensor counts as collapsed (strictly below).

    Returns:
        list[tuple[str, float, int]]: ``(name, density, numel)`` in the masks' order.
    """
    out = []
    for n, m in masks.items():
        numel = m.numel()
        density = int(torch.count_nonzero(m)) / max(numel, 1)
        if density < floor:
            out.append((n, density, numel))
    return out


def format_collapse(collapsed: List[Tuple[str, float, int]],
                    floor: float = COLLAPSE_FLOOR, limit: int = 8) -> str:
    """One log line for :func:`collapsed_tensors`' result.

    Args:
        collapsed: ``(name, density, numel)`` tuples.
        floor: the floor they were found with (named in the line).
        limit: at most this many tensors are listed; the line says how many more.

    Returns:
        str: e.g. ``'collapse: 3 prunable tensors below 1% density: a.weight 0.00% of
        12,845,056, ...'`` or ``'collapse: no prunable tensor below 1% density'``.
    """
    pct = f'{100 * floor:g}%'
    if not collapsed:
        return f'collapse: no prunable tensor below {pct} density'
    items = [f'{n} {100 * d:.2f}% of {numel:,}' for n, d, numel in collapsed[:limit]]
    more = len(collapsed) - limit
    return (f'collapse: {len(collapsed)} prunable tensor{"s" if len(collapsed) > 1 else ""} '
            f'below {pct} density: ' + ', '.join(items) +
            (f' (+{more} more)' if more > 0 else ''))
