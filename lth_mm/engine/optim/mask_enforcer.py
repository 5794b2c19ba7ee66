# Copyright (c) lth_mm authors. All rights reserved.
"""Keep pruned weights at exactly zero at every optimizer step.

Why not an ``OptimWrapper`` subclass: mmdet/mmpose ``--amp`` swaps the wrapper type to
``AmpOptimWrapper`` and users pick others (``OptimWrapperDict``, ``ApexOptimWrapper``); a
subclass would have to be repeated for each. Instead the enforcer attaches to whatever
wrapper the Runner built:

* a gradient hook on every masked trainable weight multiplies its gradient by the mask,
  during backward, so gradient clipping, momentum and Adam moments never see pruned
  entries (and DDP all-reduces masked gradients);
* a ``register_step_post_hook`` on each ``torch.optim.Optimizer`` multiplies the weights by
  their masks right after ``optimizer.step()``, which catches anything the optimizer adds by
  itself (weight decay, Adam's epsilon terms, stale state). Under AMP a skipped step never
  calls ``step()``, and the weights are still the masked ones.

Both are one elementwise multiply with the mask tensor already on the weight's device: no
host-device synchronisation, no Python loop over elements.
"""
from functools import partial
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from ...pruning.masks import MaskSet


def _mask_grad(mask: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    return grad * mask


def iter_torch_optimizers(optim_wrapper) -> List[torch.optim.Optimizer]:
    """The torch optimizers inside an mmengine optimizer wrapper (or wrapper dict).

    Args:
        optim_wrapper: ``OptimWrapper``, ``OptimWrapperDict`` or a torch optimizer.

    Returns:
        list[torch.optim.Optimizer]
    """
    if isinstance(optim_wrapper, torch.optim.Optimizer):
        return [optim_wrapper]
    if hasattr(optim_wrapper, 'optimizer'):
        return [optim_wrapper.optimizer]
    if hasattr(optim_wrapper, 'values'):  # OptimWrapperDict
        return [o for w in optim_wrapper.values() for o in iter_torch_optimizers(w)]
    raise TypeError(f'cannot find a torch optimizer in {type(optim_wrapper).__name__}')


class MaskEnforcer:
    """Applies a :class:`MaskSet` to a model's weights and gradients.

    Args:
        model: the unwrapped model whose parameters are masked.
    """

    def __init__(self, model: nn.Module):
        self.model = model
        self.masks: Optional[MaskSet] = None
        self._params: Dict[str, nn.Parameter] = dict(model.named_parameters())
        self._grad_handles: list = []
        self._step_handles: list = []
        self._trainable: List[str] = []
        self._tensors: List[torch.Tensor] = []
        self._mask_tensors: List[torch.Tensor] = []

    @property
    def active(self) -> bool:
        return self.masks is not None

    def set_masks(self, masks: Optional[MaskSet]) -> None:
        """Start enforcing ``masks`` (None: stop enforcing, dense training).

        The mask set is bound to the parameters' device/dtype here, once. Later in-place
        updates of the same :class:`MaskSet` are seen without calling this again.

        Args:
            masks: the run's mask set, or None.
        """
        for h in self._grad_handles:
            h.remove()
        self._grad_handles = []
        self.masks = masks
        self._trainable, self._tensors, self._mask_tensors = [], [], []
        if masks is None:
            return
        masks.bind_(self._params)
        for name in masks.names():
            p = self._params[name]
            if p.requires_grad:  # frozen stages are masked once, at prune time
                self._trainable.append(name)
                self._grad_handles.append(p.register_hook(partial(_mask_grad, masks[name])))
        self._tensors = [self._params[n] for n in self._trainable]
        self._mask_tensors = [masks[n] for n in self._trainable]

    def attach(self, optim_wrapper) -> None:
        """Register the post-step hook on every optimizer of ``optim_wrapper``.

        Call again whenever the Runner builds a new optimizer (each round, after resume).

        Args:
            optim_wrapper: the Runner's optimizer wrapper.
        """
        self.detach()
        for opt in iter_torch_optimizers(optim_wrapper):
            self._step_handles.append(opt.register_step_post_hook(self._after_step))

    def detach(self) -> None:
        """Remove the post-step hooks."""
        for h in self._step_handles:
            h.remove()
        self._step_handles = []

    def _after_step(self, optimizer, args, kwargs) -> None:
        if self._tensors:
            with torch.no_grad():
                torch._foreach_mul_(self._tensors, self._mask_tensors)

    @torch.no_grad()
    def apply(self, module: Optional[nn.Module] = None) -> None:
        """Zero all pruned weights (trainable and frozen) of the model or of a copy of it.

        Args:
            module: a module with the same parameter names (e.g. an EMA copy); default the
                enforced model.
        """
        if self.masks is None:
            return
        params = self._params if module is None else dict(module.named_parameters())
        self.masks.apply_(params)

    def close(self) -> None:
        """Remove every hook."""
        self.set_masks(None)
        self.detach()
