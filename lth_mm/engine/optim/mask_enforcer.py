# Copyright (c) lth_mm authors. All rights reserved.
"""Keep pruned weights at exactly zero at every optimizer step, in two fused kernels.

Why not an ``OptimWrapper`` subclass: mmdet/mmpose ``--amp`` swaps the wrapper type to
``AmpOptimWrapper`` and users pick others (``OptimWrapperDict``, ``ApexOptimWrapper``); a
subclass would have to be repeated for each. Instead the enforcer attaches to whatever
wrapper the Runner built, through torch's optimizer step hooks:

* ``register_step_post_hook``: right after ``optimizer.step()`` one ``_foreach_mul_``
  multiplies the weights by their masks, which catches anything the optimizer adds by
  itself (decoupled weight decay, Adam's epsilon terms, stale state after a mask change).
* ``register_step_pre_hook``: right before ``optimizer.step()`` one
  ``torch._foreach_mul_`` multiplies the gradients of all masked trainable weights of that
  optimizer by their masks, so momentum buffers, Adam moments and weight decay never see
  pruned entries and the optimizer state stays zero there (a checkpoint's state can be
  resumed or inspected without stale entries). One fused call per step replaces a hook
  per parameter during backward.

For elementwise optimizers (SGD, Adam(W), ...) either multiply alone would keep the
surviving weights on the same path; both are kept because each also guards what the
other cannot: the post-step multiply catches stale state after a mask change, the
gradient multiply keeps the state clean and feeds clipping and entry-mixing optimizers
(LARS/LAMB trust ratios, Adafactor) the sparse network's gradient. The cost is two
memory-bound passes over the masked weights per step (see docs/benchmarks.md).

Gradient clipping: mmengine clips inside ``OptimWrapper.step`` *before*
``optimizer.step()``, i.e. before the pre-hook. The enforcer therefore also wraps the
wrapper's ``_clip_grad`` (an instance attribute, removed again by :meth:`detach`) to mask the
gradients first, so the clipping norm is the norm of the surviving weights' gradient: what
the sparse network itself has, and what per-parameter gradient hooks gave before. The
pre-hook then skips its (already done) multiply for that step.

AMP: ``GradScaler`` skips ``optimizer.step()`` on an overflow, so neither hook runs and the
weights stay the masked ones. DDP: gradients are all-reduced unmasked during backward and
masked before the step; masking is elementwise and identical on every rank, so the result
equals masking before the all-reduce. Frozen weights are masked once (:meth:`apply`) and
never touched per step. Masks live on the weights' device in their dtype: no host-device
synchronisation.
"""
from functools import partial
from typing import Dict, List, Optional

import torch
import torch.nn as nn

from ...pruning.masks import MaskSet


def iter_torch_optimizers(optim_wrapper) -> List[torch.optim.Optimizer]:
    """The torch optimizers inside an mmengine optimizer wrapper (or wrapper dict).

    Args:
        optim_wrapper: ``OptimWrapper``, ``OptimWrapperDict`` or a torch optimizer.

    Returns:
        list[torch.optim.Optimizer]
    """
    return [o for _, o in _iter_wrapped(optim_wrapper)]


def _iter_wrapped(optim_wrapper):
    """(wrapper or None, torch optimizer) pairs."""
    if isinstance(optim_wrapper, torch.optim.Optimizer):
        return [(None, optim_wrapper)]
    if hasattr(optim_wrapper, 'optimizer'):
        return [(optim_wrapper, optim_wrapper.optimizer)]
    if hasattr(optim_wrapper, 'values'):  # OptimWrapperDict
        return [pair for w in optim_wrapper.values() for pair in _iter_wrapped(w)]
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
        self._trainable: List[str] = []
        self._optimizers: list = []  # (wrapper or None, torch optimizer)
        self._handles: list = []
        self._clip_wrapped: list = []  # wrappers whose _clip_grad we wrapped
        # per optimizer: (weights, masks) of the masked trainable params it updates
        self._groups: Dict[int, tuple] = {}
        self._grads_masked: Dict[int, bool] = {}

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
        self.masks = masks
        self._trainable = []
        if masks is not None:
            masks.bind_(self._params)
            # frozen stages are masked once, at prune time
            self._trainable = [n for n in masks.names() if self._params[n].requires_grad]
        self._regroup()

    def _regroup(self) -> None:
        self._groups = {}
        if self.masks is None:
            return
        for _, opt in self._optimizers:
            ids = {id(p) for g in opt.param_groups for p in g['params']}
            names = [n for n in self._trainable if id(self._params[n]) in ids]
            self._groups[id(opt)] = ([self._params[n] for n in names],
                                     [self.masks[n] for n in names])

    def attach(self, optim_wrapper) -> None:
        """Register the step hooks on every optimizer of ``optim_wrapper``.

        Call again whenever the Runner builds a new optimizer (each round, after resume).

        Args:
            optim_wrapper: the Runner's optimizer wrapper (or a torch optimizer).
        """
        self.detach()
        self._optimizers = _iter_wrapped(optim_wrapper)
        for wrapper, opt in self._optimizers:
            self._handles.append(opt.register_step_pre_hook(self._before_step))
            self._handles.append(opt.register_step_post_hook(self._after_step))
            if wrapper is not None and callable(getattr(wrapper, '_clip_grad', None)):
                wrapper._clip_grad = partial(self._masked_clip, opt, wrapper._clip_grad)
                self._clip_wrapped.append(wrapper)
        self._regroup()

    def detach(self) -> None:
        """Remove the step hooks and the clipping wrapper."""
        for h in self._handles:
            h.remove()
        for wrapper in self._clip_wrapped:
            if '_clip_grad' in vars(wrapper):  # ours is an instance attribute
                del wrapper._clip_grad
        self._handles, self._clip_wrapped, self._optimizers = [], [], []
        self._groups, self._grads_masked = {}, {}

    @torch.no_grad()
    def _mask_grads(self, optimizer) -> None:
        params, masks = self._groups.get(id(optimizer), ((), ()))
        pairs = [(p.grad, m) for p, m in zip(params, masks) if p.grad is not None]
        if pairs:
            grads, ms = zip(*pairs)
            torch._foreach_mul_(list(grads), list(ms))

    def _masked_clip(self, optimizer, clip, *args, **kwargs):
        self._mask_grads(optimizer)
        self._grads_masked[id(optimizer)] = True
        return clip(*args, **kwargs)

    def _before_step(self, optimizer, args, kwargs) -> None:
        if not self._grads_masked.pop(id(optimizer), False):  # else done before clipping
            self._mask_grads(optimizer)

    @torch.no_grad()
    def _after_step(self, optimizer, args, kwargs) -> None:
        params, masks = self._groups.get(id(optimizer), ((), ()))
        if params:
            torch._foreach_mul_(params, masks)

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
