# Copyright (c) lth_mm authors. All rights reserved.
"""Pruning criteria: which weights survive (pure PyTorch).

Every criterion takes the current weights and the current masks (weights already pruned stay
pruned) and returns new boolean masks. Keep counts are always relative to the *total* number
of prunable weights, so a keep ratio is cumulative over rounds.

Criteria are entries of the :data:`~lth_mm.pruning.registry.CRITERIA` registry, called as
``fn(weights, masks, keep, *, generator=None, min_density=None, **options)``. With
``min_density`` every tensor keeps at least ``ceil(min_density * numel)`` weights (its
largest by magnitude; :func:`~lth_mm.pruning.collapse.floor_count`); the floors come out of
the same total budget ``round(keep * N)``, which stays exact.
"""
from typing import Any, Dict, Mapping, Optional, Union

import torch

from .collapse import floor_counts
from .registry import CRITERIA

Tensor = torch.Tensor


def _count(keep: float, n: int) -> int:
    # Round rather than truncate: int(0.2 * 1000) can be 199 in floating point.
    return int(round(float(keep) * n))


def _topk_mask(scores: Tensor, k: int) -> Tensor:
    """Boolean mask of exactly ``k`` largest entries of a 1-D tensor (ties: lowest index).

    Uses ``kthvalue`` for the threshold rather than a full ``topk`` so that memory stays at
    one boolean per weight even for 40M-parameter scopes.
    """
    n = scores.numel()
    if k >= n:
        return torch.ones_like(scores, dtype=torch.bool)
    if k <= 0:
        return torch.zeros_like(scores, dtype=torch.bool)
    # kthvalue is the k-th smallest; the k-th largest is the (n - k + 1)-th smallest.
    thr = torch.kthvalue(scores.float(), n - k + 1).values
    mask = scores > thr
    missing = k - int(mask.sum())
    if missing > 0:
        ties = (scores == thr).nonzero().flatten()[:missing]
        mask[ties] = True
    return mask


def _scores(weights: Dict[str, Tensor], masks: Dict[str, Tensor]) -> Dict[str, Tensor]:
    # Already-pruned weights get score -1 (< any magnitude) so they are never revived.
    return {n: torch.where(masks[n].bool(), weights[n].detach().abs().float(),
                           torch.full_like(weights[n], -1.0, dtype=torch.float32))
            for n in weights}


def _check_alive(keep_counts: Dict[str, int], masks: Dict[str, Tensor], what: str) -> None:
    for n, k in keep_counts.items():
        alive = int(masks[n].sum())
        if k > alive:
            raise ValueError(f'{what}: cannot keep {k} weights of {n!r}, only {alive} are alive '
                             '(keep ratios must not increase between rounds).')


def _alive_scores(w: Tensor, mask: Tensor, all_alive: bool,
                  out: Optional[Tensor] = None) -> Tensor:
    """``|w|`` in float32, -1 where pruned (pruned weights rank below any magnitude).

    ``out``: a float32 scratch tensor of ``w``'s shape on its device to write into; reusing
    one scratch for every tensor saves the page faults of a fresh allocation each time.
    """
    w = w.detach()
    if out is None:
        score = w.abs()
        score = score.float() if score.dtype != torch.float32 else score
    else:
        score = torch.abs(w, out=out) if w.dtype == torch.float32 else \
            out.copy_(w).abs_()
    if not all_alive:
        score.masked_fill_(~mask.bool(), -1.0)
    return score


def _exact_threshold(weights, masks, names, all_alive, k: int) -> float:
    """The k-th largest score by a full selection (the fallback of the sampled search).

    One float32 buffer of all scores and numpy's in-place introselect
    (``ndarray.partition``), which avoids the extra copy ``torch.kthvalue`` makes.
    """
    total = sum(weights[n].numel() for n in names)
    buf = torch.empty(total, dtype=torch.float32)
    i = 0
    for n in names:
        m = weights[n].numel()
        buf[i:i + m] = _alive_scores(weights[n], masks[n], all_alive[n]).flatten().cpu()
        i += m
    arr = buf.numpy()
    arr.partition(total - k)  # the k-th largest is the (total - k)-th smallest, 0-based
    return float(arr[total - k])


def _sampled_bracket(weights, masks, names, all_alive, k: int, total: int):
    """Score bounds ``lo <= hi`` that should enclose the k-th largest score.

    From a strided sample of about 2^18 scores: the sample's quantile at the threshold's
    rank, widened by 8 standard deviations of a sample rank plus 64 places. The caller
    checks that the bracket really holds the k-th largest and falls back otherwise, so the
    sample only decides the speed, never the result.
    """
    stride = max(1, total >> 18)
    sample = torch.cat([
        _alive_scores(weights[n].flatten()[::stride], masks[n].flatten()[::stride],
                      all_alive[n]).cpu() for n in names])
    s = sample.numel()
    q = (total - k) / total
    margin = int(8 * (s * q * (1 - q)) ** 0.5) + 64
    j = int(q * s)
    ranks = [max(j - margin, 0), min(j + margin, s - 1)]
    arr = sample.numpy()
    arr.partition(ranks)  # two order statistics in O(s), no full sort
    return float(arr[ranks[0]]), float(arr[ranks[1]])


def _reserve_floors(weights, masks, floors):
    """The ``floors[n]`` largest live weights of each tensor (ties: lowest index)."""
    out = {}
    for n, f in floors.items():
        if f > 0:
            score = _alive_scores(weights[n], masks[n], bool(masks[n].all())).flatten()
            out[n] = _topk_mask(score, f).view_as(weights[n])
    return out


@CRITERIA.register_module(name='global_magnitude')
def global_magnitude(weights: Dict[str, Tensor], masks: Dict[str, Tensor],
                     keep: float, *, generator: Optional[torch.Generator] = None,
                     min_density: Optional[float] = None) -> Dict[str, Tensor]:
    """One magnitude threshold over all prunable weights (the paper's default).

    Ties at the threshold are kept in order of the concatenated (flattened, in ``weights``
    order) weights, lowest index first, so exactly ``round(keep * N)`` weights are kept.

    How (written by hand: no library selects a global top-k over many tensors without
    concatenating them): a strided sample brackets the threshold; one pass per tensor
    keeps every score above the bracket and collects the few scores inside it with their
    positions; the exact threshold and the ties are then resolved among those. Nothing
    of the size of all weights is allocated besides the returned masks (1 byte a weight);
    if the bracket misses (adversarial ties), an exact full selection is used instead.

    With ``min_density``, each tensor's ``ceil(min_density * numel)`` largest weights are
    kept first and the rest of the budget goes by the global threshold over the other
    weights (which rises: tensors above their floor keep a subset of what they would keep
    without one).

    Args:
        weights: prunable weights by name.
        masks: current masks (bool or 0/1), same names and shapes.
        keep: cumulative fraction of all prunable weights to keep.
        generator: unused (the registry's common signature).
        min_density: per-tensor density floor, or None.

    Returns:
        dict[str, Tensor]: boolean masks keeping exactly ``round(keep * N)`` weights.
    """
    total = sum(w.numel() for w in weights.values())
    k = _count(keep, total)
    floors = floor_counts(masks, min_density, k, 'global_magnitude')
    if not any(floors.values()):
        return _global_topk(weights, masks, k)
    reserved = _reserve_floors(weights, masks, floors)
    rest = {n: masks[n].bool() & ~reserved[n] if n in reserved else masks[n]
            for n in weights}
    out = _global_topk(weights, rest, k - sum(floors.values()))
    for n, r in reserved.items():
        out[n] |= r
    return out


def _global_topk(weights: Dict[str, Tensor], masks: Dict[str, Tensor],
                 k: int) -> Dict[str, Tensor]:
    """The ``k`` largest live magnitudes over all tensors (see :func:`global_magnitude`)."""
    names = list(weights)
    total = sum(weights[n].numel() for n in names)
    alive_counts = {n: int(torch.count_nonzero(masks[n])) for n in names}
    alive = sum(alive_counts.values())
    if k > alive:
        raise ValueError(f'global_magnitude: cannot keep {k} of {total} weights, only {alive} '
                         'are alive (keep ratios must not increase between rounds).')
    if k >= total or k <= 0:
        return {n: torch.full_like(weights[n], k > 0, dtype=torch.bool) for n in names}
    all_alive = {n: alive_counts[n] == weights[n].numel() for n in names}
    lo, hi = _sampled_bracket(weights, masks, names, all_alive, k, total)
    out, cand_idx, cand_val, above = {}, {}, [], 0
    # one float and one bool scratch per device, sized for the largest tensor
    scratch = {}
    for n in names:
        w = weights[n]
        if w.device not in scratch or scratch[w.device][0].numel() < w.numel():
            size = max(weights[m].numel() for m in names if weights[m].device == w.device)
            scratch[w.device] = (torch.empty(size, dtype=torch.float32, device=w.device),
                                 torch.empty(size, dtype=torch.bool, device=w.device))
        fbuf, bbuf = scratch[w.device]
        score = _alive_scores(w, masks[n], all_alive[n], fbuf[:w.numel()].view(w.shape))
        gt = score > hi
        above += int(torch.count_nonzero(gt))
        inside = bbuf[:w.numel()].view(w.shape)
        torch.ge(score, lo, out=inside)
        inside.logical_xor_(gt)  # lo <= score <= hi
        idx = inside.view(-1).nonzero().flatten()  # ascending: flat order for the ties
        cand_idx[n] = idx
        cand_val.append(score.view(-1)[idx])
        out[n] = gt
    del scratch
    vals = torch.cat(cand_val)
    need = k - above  # how many of the bracketed scores are kept
    if 0 < need <= vals.numel():
        thr = float(torch.kthvalue(vals, vals.numel() - need + 1).values)
    else:  # the sample missed: select exactly over everything
        thr = _exact_threshold(weights, masks, names, all_alive, k)
        for n in names:
            score = _alive_scores(weights[n], masks[n], all_alive[n])
            out[n] = score > thr
            idx = (score == thr).view(-1).nonzero().flatten()
            cand_idx[n], score = idx, None
        vals = None
    missing = k - sum(int(torch.count_nonzero(o)) for o in out.values()) if vals is None \
        else need
    i = 0
    for n in names:  # bracketed scores above the threshold, then ties in flat order
        idx = cand_idx[n]
        if vals is not None:
            v = vals[i:i + idx.numel()]
            i += idx.numel()
            sel = idx[v > thr]
            out[n].view(-1)[sel] = True
            missing -= sel.numel()
            idx = idx[v == thr]
        cand_idx[n] = idx
    for n in names:
        if missing <= 0:
            break
        ties = cand_idx[n][:missing]
        out[n].view(-1)[ties] = True
        missing -= ties.numel()
    return out


@CRITERIA.register_module(name='layerwise_magnitude')
def layerwise_magnitude(weights: Dict[str, Tensor], masks: Dict[str, Tensor],
                        keep: float, *, generator: Optional[torch.Generator] = None,
                        min_density: Optional[float] = None) -> Dict[str, Tensor]:
    """The same keep fraction in every tensor (per-tensor magnitude top-k).

    Every tensor keeps ``round(keep * numel)``; ``min_density`` (at most ``keep``) only
    lifts a tensor whose rounding falls under its floor, to ``ceil(min_density * numel)``
    (a small tensor at ``min_density == keep``), so the total may exceed
    ``round(keep * N)`` by those few weights.

    Args:
        weights: prunable weights by name.
        masks: current masks.
        keep: cumulative fraction of each tensor to keep.
        generator: unused (the registry's common signature).
        min_density: per-tensor density floor, or None.

    Returns:
        dict[str, Tensor]: boolean masks.
    """
    floors = floor_counts(masks, min_density, None, 'layerwise_magnitude')
    counts = {n: max(_count(keep, w.numel()), floors[n]) for n, w in weights.items()}
    _check_alive(counts, masks, 'layerwise_magnitude')
    scores = _scores(weights, masks)
    return {n: _topk_mask(scores[n].flatten(), counts[n]).view_as(weights[n]) for n in weights}


def random_with_counts(reference: Dict[str, Tensor],
                       generator: Optional[torch.Generator] = None) -> Dict[str, Tensor]:
    """A random mask with the same number of kept weights per tensor as ``reference``.

    This is the "random ticket" control: same per-layer sparsity as the magnitude ticket,
    random positions.

    Args:
        reference: masks whose per-tensor counts are copied.
        generator: CPU random generator (seed it for reproducibility).

    Returns:
        dict[str, Tensor]: boolean masks on the reference's devices.
    """
    out = {}
    for n, ref in reference.items():
        k = int(ref.bool().sum())
        flat = torch.zeros(ref.numel(), dtype=torch.bool)
        flat[torch.randperm(ref.numel(), generator=generator)[:k]] = True
        out[n] = flat.view(ref.shape).to(ref.device)
    return out


@CRITERIA.register_module(name='random')
def random_criterion(weights: Dict[str, Tensor], masks: Dict[str, Tensor], keep: float, *,
                     generator: Optional[torch.Generator] = None,
                     min_density: Optional[float] = None) -> Dict[str, Tensor]:
    """Per-tensor counts of the global magnitude mask, at random live positions.

    Args:
        weights, masks, keep, min_density: as in :func:`global_magnitude` (the floor acts
            through the counts copied from it).
        generator: CPU random generator.

    Returns:
        dict[str, Tensor]: boolean masks.
    """
    ref = global_magnitude(weights, masks, keep, min_density=min_density)
    out = {}
    for n, m in masks.items():
        alive = m.bool().flatten().nonzero().flatten().cpu()
        k = int(ref[n].sum())
        flat = torch.zeros(m.numel(), dtype=torch.bool)
        flat[alive[torch.randperm(alive.numel(), generator=generator)[:k]]] = True
        out[n] = flat.view(m.shape).to(m.device)
    return out


# 'random' is a control criterion: it has no "mask of now" to track (early-bird hooks).
random_criterion.random = True


def compute_masks(criterion: Union[str, Mapping[str, Any]], weights: Dict[str, Tensor],
                  masks: Dict[str, Tensor], keep: float,
                  generator: Optional[torch.Generator] = None,
                  min_density: Optional[float] = None,
                  structure=None) -> Dict[str, Tensor]:
    """Run a criterion of the :data:`~lth_mm.pruning.registry.CRITERIA` registry.

    Args:
        criterion: a registered name (``'global_magnitude'``, ``'layerwise_magnitude'``,
            ``'lamp'``, ``'random'``) or ``dict(type=NAME, **options)``.
        weights: prunable weights by name.
        masks: current masks (already-pruned weights stay pruned).
        keep: cumulative keep ratio.
        generator: random generator for ``'random'``.
        min_density: per-tensor density floor (``lottery.min_density``), or None.
        structure: the model's :class:`~lth_mm.pruning.channels.ChannelStructure`, passed
            to structured criteria only (those registered with ``structured = True``).

    Returns:
        dict[str, Tensor]: new boolean masks.

    Raises:
        ValueError: unknown criterion or option, or an impossible floor/keep ratio.
    """
    try:
        fn, options = CRITERIA.split(criterion)
    except (KeyError, TypeError) as e:
        raise ValueError(f'lottery.criterion: {e.args[0]}') from None
    if getattr(fn, 'structured', False):
        options['structure'] = structure
    return fn(weights, masks, keep, generator=generator, min_density=min_density, **options)


def permute_within(weights: Dict[str, Tensor],
                   generator: Optional[torch.Generator] = None) -> Dict[str, Tensor]:
    """Shuffle the values inside each tensor: the "random re-initialisation" control.

    A permutation of a tensor's initial values is an exact sample from its own empirical
    initial distribution, whatever initialiser (or pretrained weights) produced it, so the
    control keeps each layer's scale while breaking the ticket's weight/mask pairing.

    Args:
        weights: tensors to shuffle (not modified).
        generator: CPU random generator.

    Returns:
        dict[str, Tensor]: shuffled copies.
    """
    out = {}
    for n, w in weights.items():
        perm = torch.randperm(w.numel(), generator=generator).to(w.device)
        out[n] = w.detach().flatten()[perm].view_as(w).clone()
    return out
