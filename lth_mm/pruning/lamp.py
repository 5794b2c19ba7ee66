# Copyright (c) lth_mm authors. All rights reserved.
"""LAMP: layer-adaptive magnitude-based pruning (Lee et al., ICLR 2021), pure PyTorch/numpy.

The LAMP score of a weight ``u`` of a tensor is its squared magnitude over the sum of the
squared magnitudes of the weights of that tensor at least as large::

    score(u) = w_u^2 / sum_{v : |w_v| >= |w_u|} w_v^2

One global threshold over these scores prunes globally without collapsing a layer: the
largest weight of every tensor scores 1, the maximum, so each tensor keeps weights as long
as the budget has one per tensor. Within a tensor the score grows with the magnitude, so
each tensor keeps a top-k by magnitude: LAMP only chooses the per-tensor counts.

Ties: equal magnitudes in a tensor share one score (the sum runs over all of them), so
equal scores in a tensor are equal magnitudes; at the global threshold ties are kept in the
concatenated (tensor order, then flattened index) order, lowest first, as in
:func:`~lth_mm.pruning.criteria.global_magnitude`, and exactly ``round(keep * N)`` weights
are kept.

Speed (written here because no maintained library computes LAMP masks: the authors' code
sorts every tensor with ``torch.sort``, 2.6 s for 12.8M weights on one CPU thread): each
tensor's live magnitudes are split by numpy's O(n) ``partition`` at a rank that a strided
sample says lies beyond the tensor's kept count; only that top part is sorted (numpy's SIMD
sort) and scored. If the exact threshold shows that a tensor's top part was too short
(its last score is not below the threshold), that tensor is scored in full and the
selection redone, so the sample decides the speed, never the result.
"""
import math
from typing import Dict, Optional

import numpy as np
import torch

from .collapse import floor_counts
from .criteria import _count
from .registry import CRITERIA

Tensor = torch.Tensor
# Target number of sampled weights per tensor for the count estimate.
_SAMPLE = 4096


def _live_magnitudes(w: Tensor, mask: Tensor, all_alive: bool,
                     scratch: Optional[Tensor]) -> np.ndarray:
    """The live ``|w|`` (flattened order) as float32 numpy, in ``scratch`` when given.

    One float32 scratch, sized for the largest tensor and reused for every tensor (the
    caller copies what it keeps), saves the page faults of a fresh allocation each time.
    """
    w = w.detach()
    if scratch is not None and w.dtype == torch.float32 and w.device.type == 'cpu':
        if all_alive:
            out = scratch[:w.numel()]
            torch.abs(w.reshape(-1), out=out)
        else:
            m = mask.reshape(-1).bool()
            out = scratch[:int(torch.count_nonzero(m))]
            torch.masked_select(w.reshape(-1), m, out=out).abs_()
        return out.numpy()
    a = w.flatten().abs().float().cpu()
    if not all_alive:
        a = a[mask.flatten().bool().cpu()]
    return a.numpy()  # abs() made a copy: safe to partition in place


def _band_scores(band_desc: np.ndarray, above: float, extra_ties: int) -> np.ndarray:
    """LAMP scores (float64) of a band of magnitudes sorted in descending order.

    Args:
        band_desc: consecutive ranks of a tensor's live magnitudes, descending.
        above: the sum of the squares of every live weight ranked above the band (ties of
            the band's first value among them included: they are >= it).
        extra_ties: live weights ranked below the band equal to its last value (they join
            the last tie group's sum).

    Returns:
        np.ndarray: non-increasing scores, one per entry of ``band_desc``.
    """
    a = band_desc.astype(np.float64) ** 2
    prefix = np.cumsum(a)
    prefix += above
    distinct = np.not_equal(band_desc[1:], band_desc[:-1])
    if distinct.all():  # the usual case: no ties, each prefix is its own group's sum
        denom = prefix
        denom[-1] += extra_ties * a[-1]
    else:
        new_group = np.concatenate(([True], distinct))
        ends = np.append(np.flatnonzero(distinct), a.size - 1)  # last index of each group
        group_sum = prefix[ends]
        group_sum[-1] += extra_ties * a[-1]
        denom = group_sum[np.cumsum(new_group) - 1]
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(denom > 0, a / denom, 0.0)


def _estimate_counts(weights, masks, all_alive, alive, k: int) -> Dict[str, int]:
    """Per-tensor kept counts at the LAMP threshold estimated from a strided sample."""
    est, pooled, pooled_w = {}, [], []
    for n, w in weights.items():
        if alive[n] == 0:
            continue
        stride = max(1, w.numel() // _SAMPLE)
        s = w.detach().flatten()[::stride].abs().float().cpu()
        if not all_alive[n]:
            s = s[masks[n].flatten()[::stride].bool().cpu()]
        if s.numel() == 0:
            continue
        b = np.sort(s.numpy())[::-1].astype(np.float64) ** 2
        scale = alive[n] / b.size
        sc = b / np.maximum(np.cumsum(b) * scale, 1e-300)
        est[n] = (sc, scale)
        pooled.append(sc)
        pooled_w.append(np.full(sc.size, scale))
    scores = np.concatenate(pooled)
    order = np.argsort(-scores, kind='stable')
    cum = np.cumsum(np.concatenate(pooled_w)[order])
    j = min(int(np.searchsorted(cum, k)), scores.size - 1)
    t = scores[order[j]]
    return {n: int(scale * np.count_nonzero(sc >= t)) for n, (sc, scale) in est.items()}


@CRITERIA.register_module(name='lamp')
def lamp(weights: Dict[str, Tensor], masks: Dict[str, Tensor], keep: float, *,
         generator: Optional[torch.Generator] = None,
         min_density: Optional[float] = None) -> Dict[str, Tensor]:
    """Global pruning by LAMP scores (Lee et al., ICLR 2021).

    Args:
        weights: prunable weights by name.
        masks: current masks (pruned weights stay pruned and do not enter the sums).
        keep: cumulative fraction of all prunable weights to keep.
        generator: unused (the registry's common signature).
        min_density: per-tensor density floor: each tensor's ``ceil(min_density * numel)``
            largest weights are kept first, the rest of the budget goes by LAMP score.

    Returns:
        dict[str, Tensor]: boolean masks keeping exactly ``round(keep * N)`` weights.
    """
    names = list(weights)
    total = sum(w.numel() for w in weights.values())
    k = _count(keep, total)
    alive = {n: int(torch.count_nonzero(masks[n])) for n in names}
    if k > sum(alive.values()):
        raise ValueError(f'lamp: cannot keep {k} of {total} weights, only '
                         f'{sum(alive.values())} are alive (keep ratios must not increase '
                         'between rounds).')
    if k >= total or k <= 0:
        return {n: torch.full_like(weights[n], k > 0, dtype=torch.bool) for n in names}
    floors = floor_counts(masks, min_density, k, 'lamp')
    all_alive = {n: alive[n] == weights[n].numel() for n in names}
    est = _estimate_counts(weights, masks, all_alive, alive, k)
    # Per tensor, only a band of ranks around the estimated count is sorted and scored:
    # ranks above it are kept whole, ranks below pruned. 20% and 256 weights of slack on
    # either side; the check below widens a band to the whole tensor where it was wrong.
    band = {}
    for n in names:
        c = est.get(n, 0)
        hi = min(alive[n], max(floors[n] + 1, math.ceil(1.2 * c) + 256))
        band[n] = (max(0, min(int(0.8 * c) - 256, hi - 1)), hi)
    data = {}
    scratch = torch.empty(max(w.numel() for w in weights.values()), dtype=torch.float32)
    while True:
        for n in names:
            if n not in data or data[n][0] != band[n]:
                data[n] = (band[n],) + _score_band(weights[n], masks[n], all_alive[n],
                                                   *band[n], scratch)
        # forced: the ranks above each band and the floors; the rest of the budget goes to
        # the need-th largest score of the bands
        forced = {n: max(band[n][0], floors[n]) for n in names}
        need = k - sum(forced.values())
        rest = [data[n][2][forced[n] - band[n][0]:] for n in names]
        rest = np.concatenate(rest)
        if 0 < need <= rest.size:
            thr = np.partition(rest, rest.size - need)[rest.size - need]
        else:
            thr = np.inf if need <= 0 else -np.inf
        wrong = [n for n in names if band[n] != (0, alive[n]) and (
            (band[n][0] > floors[n] and data[n][2].size and data[n][2][0] <= thr) or
            (band[n][1] < alive[n] and (not data[n][2].size or data[n][2][-1] >= thr)))]
        if not wrong:
            break
        for n in wrong:  # the sample misjudged these tensors: score them whole
            band[n] = (0, alive[n])
    # per-tensor counts: ranks above the band and floors, band scores above the threshold,
    # then ties in tensor order
    counts, missing = {}, k
    for n in names:
        lo = band[n][0]
        counts[n] = max(forced[n], lo + int(np.count_nonzero(data[n][2] > thr)))
        missing -= counts[n]
    for n in names:
        if missing <= 0:
            break
        lo = band[n][0]
        tied = max(0, lo + int(np.count_nonzero(data[n][2] >= thr)) - counts[n])
        take = min(tied, missing)
        counts[n] += take
        missing -= take
    return {n: _top_count(weights[n], masks[n], all_alive[n], data[n], counts[n], scratch)
            for n in names}


def _score_band(w: Tensor, mask: Tensor, all_alive: bool, lo: int, hi: int,
                scratch: Optional[Tensor] = None):
    """Magnitudes and LAMP scores of a tensor's live ranks ``lo .. hi - 1`` (0 = largest).

    Returns:
        tuple: ``(band magnitudes descending, band scores, smallest magnitude above the
        band or None)``.
    """
    x = _live_magnitudes(w, mask, all_alive, scratch)
    n = x.size
    if hi == 0:
        return np.empty(0, np.float32), np.empty(0), None
    # Two single-rank partitions (the second within the top hi): numpy's multi-rank
    # partition is several times slower than one pass each.
    if hi < n:
        x.partition(n - hi)  # x[n-hi:] are the hi largest
    if 0 < lo < hi:
        x[n - hi:].partition(hi - lo)  # then x[n-lo:] are the lo largest
    top = x[n - lo:]
    above = float(np.sum(top.astype(np.float64) ** 2)) if lo else 0.0
    bandx = np.sort(x[n - hi:n - lo])[::-1]
    extra = int(np.count_nonzero(x[:n - hi] == bandx[-1])) if hi < n and bandx.size else 0
    return bandx, _band_scores(bandx, above, extra), float(top.min()) if lo else None


def _top_count(w: Tensor, mask: Tensor, all_alive: bool, data, c: int,
               scratch: Optional[Tensor] = None) -> Tensor:
    """The ``c`` largest live magnitudes of ``w`` (ties: lowest flattened index)."""
    if c <= 0:
        return torch.zeros_like(w, dtype=torch.bool)
    (lo, _), bandx, _, top_min = data
    v = top_min if c == lo else float(bandx[c - lo - 1])
    w = w.detach()
    if scratch is not None and w.dtype == torch.float32 and w.device.type == 'cpu':
        mag = torch.abs(w, out=scratch[:w.numel()].view_as(w))
    else:
        mag = w.abs()
    keep = torch.ge(mag, v)
    if not all_alive:
        keep &= mask.bool()
    surplus = int(torch.count_nonzero(keep)) - c
    if surplus > 0:  # ties at v: keep the lowest indices
        eq = w.abs() == v
        if not all_alive:
            eq &= mask.bool()
        idx = eq.flatten().nonzero().flatten()
        keep.view(-1)[idx[idx.numel() - surplus:]] = False
    return keep
