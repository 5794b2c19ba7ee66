# Copyright (c) lth_mm authors. All rights reserved.
"""Pruning criteria: which weights survive (pure PyTorch).

Every criterion takes the current weights and the current masks (weights already pruned stay
pruned) and returns new boolean masks. Keep counts are always relative to the *total* number
of prunable weights, so a keep ratio is cumulative over rounds.
"""
from typing import Dict, Optional

import torch

Tensor = torch.Tensor
CRITERIA = ('global_magnitude', 'layerwise_magnitude', 'random')


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


def global_magnitude(weights: Dict[str, Tensor], masks: Dict[str, Tensor],
                     keep: float) -> Dict[str, Tensor]:
    """One magnitude threshold over all prunable weights (the paper's default).

    Args:
        weights: prunable weights by name.
        masks: current masks (bool or 0/1), same names and shapes.
        keep: cumulative fraction of all prunable weights to keep.

    Returns:
        dict[str, Tensor]: boolean masks keeping exactly ``round(keep * N)`` weights.
    """
    names = list(weights)
    total = sum(weights[n].numel() for n in names)
    k = _count(keep, total)
    alive = sum(int(masks[n].sum()) for n in names)
    if k > alive:
        raise ValueError(f'global_magnitude: cannot keep {k} of {total} weights, only {alive} '
                         'are alive (keep ratios must not increase between rounds).')
    scores = _scores(weights, masks)
    flat = torch.cat([scores[n].flatten() for n in names])
    keep_flat = _topk_mask(flat, k)
    out, i = {}, 0
    for n in names:
        m = weights[n].numel()
        out[n] = keep_flat[i:i + m].view_as(weights[n])
        i += m
    return out


def layerwise_magnitude(weights: Dict[str, Tensor], masks: Dict[str, Tensor],
                        keep: float) -> Dict[str, Tensor]:
    """The same keep fraction in every tensor (per-tensor magnitude top-k).

    Args:
        weights: prunable weights by name.
        masks: current masks.
        keep: cumulative fraction of each tensor to keep.

    Returns:
        dict[str, Tensor]: boolean masks.
    """
    counts = {n: _count(keep, w.numel()) for n, w in weights.items()}
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


def compute_masks(criterion: str, weights: Dict[str, Tensor], masks: Dict[str, Tensor],
                  keep: float, generator: Optional[torch.Generator] = None) -> Dict[str, Tensor]:
    """Dispatch to a criterion by name.

    ``'random'`` keeps the per-tensor counts that global magnitude pruning would give, at
    random positions among the weights that are still alive.

    Args:
        criterion: one of :data:`CRITERIA`.
        weights: prunable weights by name.
        masks: current masks.
        keep: cumulative keep ratio.
        generator: random generator for ``'random'``.

    Returns:
        dict[str, Tensor]: new boolean masks.
    """
    if criterion == 'global_magnitude':
        return global_magnitude(weights, masks, keep)
    if criterion == 'layerwise_magnitude':
        return layerwise_magnitude(weights, masks, keep)
    if criterion == 'random':
        ref = global_magnitude(weights, masks, keep)
        out = {}
        for n, m in masks.items():
            alive = m.bool().flatten().nonzero().flatten().cpu()
            k = int(ref[n].sum())
            flat = torch.zeros(m.numel(), dtype=torch.bool)
            flat[alive[torch.randperm(alive.numel(), generator=generator)[:k]]] = True
            out[n] = flat.view(m.shape).to(m.device)
        return out
    raise ValueError(f'lottery.criterion must be one of {CRITERIA}, got {criterion!r}.')


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
