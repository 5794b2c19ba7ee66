# Copyright (c) lth_mm authors. All rights reserved.
"""The three transfer modes of the paper as pure functions of tensors (no mmengine).

Each builder gets the target's prunable weights (``target_weights``, in scope order), the
source tensors already renamed to target names, and returns masks over exactly the
prunable names (all-ones where the source says nothing) plus the start values to carry.
"""
from typing import Dict, List, Optional, Tuple

import torch

from ..pruning import global_magnitude
from .names import TransferError

# The backbone of a detector, for the modes that transfer into it: ``backbone.*`` and the
# res5 of C4 models (``roi_head.shared_head.*``, the paper's VOC "top").
BACKBONE_PREFIX = ('backbone.', 'roi_head.shared_head.')
THRESHOLDS = ('model', 'backbone')


def _dense(target_weights: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    return {n: torch.ones(w.shape, dtype=torch.bool) for n, w in target_weights.items()}


def imagenet_masks(target_weights: Dict[str, torch.Tensor], values: Dict[str, torch.Tensor],
                   source_masks: Optional[Dict[str, torch.Tensor]]
                   ) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
    """A classifier ticket's mask and values into the backbone (paper Tables 1, 2).

    Args:
        target_weights: the target's prunable weights by name.
        values: source tensors renamed to target backbone names (weights, BN buffers).
        source_masks: the source ticket's masks renamed to target names, or None (then the
            mask is the source weights' non-zeros).

    Returns:
        tuple: masks over the prunable names (backbone from the source, the rest dense),
        and the values to load (the source's backbone tensors, masked weights zeroed).
    """
    masks = _dense(target_weights)
    for name in target_weights:
        if not name.startswith(BACKBONE_PREFIX):
            continue
        if source_masks is not None and name in source_masks:
            masks[name] = source_masks[name].bool().clone()
        else:
            masks[name] = values[name] != 0
    if all(bool(masks[n].all()) for n in masks if n.startswith(BACKBONE_PREFIX)):
        raise TransferError(
            "mode='imagenet' needs a pruned source (a ticket, or a checkpoint whose pruned "
            'weights are zero), but every backbone weight of the source is non-zero. For a '
            "dense pretrained model use mode='mask' with a keep_ratio (Mehta et al.).")
    values = {n: v.clone() for n, v in values.items()}
    for name, m in masks.items():
        if name in values:  # the ticket's zeros are part of its values
            values[name] = values[name] * m.to(values[name].dtype)
    return masks, values


def mask_transfer_masks(target_weights: Dict[str, torch.Tensor],
                        values: Dict[str, torch.Tensor], keep_ratio: float,
                        threshold: str = 'model') -> Dict[str, torch.Tensor]:
    """Prune pretrained weights by magnitude and keep the backbone's zeros (Mehta et al.).

    Args:
        target_weights: the target's prunable weights (its own initialisation outside the
            backbone).
        values: pretrained tensors renamed to target backbone names.
        keep_ratio: fraction kept under the global threshold.
        threshold: ``'model'``: the threshold over every prunable weight of the model
            (pretrained backbone + the target's other weights), as the paper's code does, so
            the backbone's sparsity differs from ``1 - keep_ratio``; ``'backbone'``: over
            the backbone weights only (its sparsity is then ``1 - keep_ratio``).

    Returns:
        dict: masks over the prunable names; only backbone masks have zeros.
    """
    if threshold not in THRESHOLDS:
        raise TransferError(f'transfer threshold must be one of {THRESHOLDS}, got '
                            f'{threshold!r}.')
    pool = {n: (values[n] if n in values else w) for n, w in target_weights.items()
            if threshold == 'model' or n.startswith(BACKBONE_PREFIX)}
    found = global_magnitude({n: w.detach().float().cpu() for n, w in pool.items()},
                             {n: torch.ones(w.shape, dtype=torch.bool)
                              for n, w in pool.items()}, keep_ratio)
    masks = _dense(target_weights)
    for name, m in found.items():
        if name.startswith(BACKBONE_PREFIX):
            masks[name] = m
    return masks


def task_masks(target_weights: Dict[str, torch.Tensor],
               source_masks: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Another task's ticket mask on the shared tensors; the target's own rest dense.

    Args:
        target_weights: the target's prunable weights.
        source_masks: source masks renamed to target names (shared names and shapes only).

    Returns:
        dict: masks over the prunable names.
    """
    masks = _dense(target_weights)
    for name, m in source_masks.items():
        if name in masks:
            masks[name] = m.bool().clone()
    return masks


def backbone_sparsity(masks: Dict[str, torch.Tensor]) -> float:
    """Fraction of the backbone's prunable weights that are pruned."""
    names: List[str] = [n for n in masks if n.startswith(BACKBONE_PREFIX)]
    total = sum(masks[n].numel() for n in names)
    return 0.0 if total == 0 else 1 - sum(int(masks[n].sum()) for n in names) / total
