# Copyright (c) lth_mm authors. All rights reserved.
"""A set of binary masks over named weights (pure PyTorch).

The :class:`MaskSet` is the single owner of the masks of a run. Its tensors live on the
weights' device in the weights' dtype (0/1 values), so enforcement is a fused
``torch._foreach_mul_`` with no host-device synchronisation. Updates are made *in place*
(:meth:`MaskSet.update_`), so everything that holds a reference (gradient hooks, the
optimizer step hook) sees the new masks without being re-wired.

On disk masks are bit-packed (1 bit per weight, see :meth:`MaskSet.state_dict`).
"""
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional

import numpy as np
import torch
import torch.nn as nn

Tensor = torch.Tensor


def pack_bool(mask: Tensor) -> Tensor:
    """Pack a boolean tensor to uint8 bits (8 weights a byte).

    Args:
        mask: boolean (or 0/1) tensor of any shape.

    Returns:
        Tensor: 1-D uint8 CPU tensor.
    """
    flat = mask.detach().bool().flatten().cpu().numpy()
    return torch.from_numpy(np.packbits(flat))


def unpack_bool(packed: Tensor, shape: Iterable[int]) -> Tensor:
    """Inverse of :func:`pack_bool`.

    Args:
        packed: uint8 tensor from :func:`pack_bool`.
        shape: the original shape.

    Returns:
        Tensor: boolean CPU tensor of ``shape``.
    """
    shape = tuple(int(s) for s in shape)
    n = int(np.prod(shape)) if shape else 1
    bits = np.unpackbits(packed.cpu().numpy().astype(np.uint8))
    if bits.size < n or bits.size - n >= 8:
        raise ValueError(f'packed mask has {bits.size} bits, expected {n} (shape {shape})')
    return torch.from_numpy(bits[:n].astype(bool)).view(shape)


class MaskSet:
    """Binary masks for a fixed, ordered set of named weights.

    Args:
        masks: mapping of parameter name to mask tensor (bool or 0/1).
    """

    def __init__(self, masks: Mapping[str, Tensor]):
        self._masks: 'OrderedDict[str, Tensor]' = OrderedDict(
            (n, m.detach().clone()) for n, m in masks.items())

    # ----------------------------------------------------------------- constructors
    @classmethod
    def ones_like(cls, params: Mapping[str, Tensor]) -> 'MaskSet':
        """All-ones masks (nothing pruned) matching ``params`` (device and dtype).

        Args:
            params: parameters by name.

        Returns:
            MaskSet: dense masks.
        """
        return cls({n: torch.ones_like(p.detach()) for n, p in params.items()})

    @classmethod
    def from_state_dict(cls, state: Mapping) -> 'MaskSet':
        """Rebuild from :meth:`state_dict` output (boolean CPU masks).

        Args:
            state: ``{'names': [...], 'shapes': [...], 'bits': [...]}``.

        Returns:
            MaskSet: masks as boolean CPU tensors.
        """
        try:
            names, shapes, bits = state['names'], state['shapes'], state['bits']
        except (KeyError, TypeError) as e:
            raise ValueError(f'not a mask state dict (missing {e})') from e
        if not len(names) == len(shapes) == len(bits):
            raise ValueError('mask state dict: names, shapes and bits differ in length')
        return cls({n: unpack_bool(b, s) for n, s, b in zip(names, shapes, bits)})

    # ----------------------------------------------------------------- accessors
    def __contains__(self, name: str) -> bool:
        return name in self._masks

    def __getitem__(self, name: str) -> Tensor:
        return self._masks[name]

    def __len__(self) -> int:
        return len(self._masks)

    def names(self) -> List[str]:
        return list(self._masks)

    def items(self):
        return self._masks.items()

    def as_bool(self) -> Dict[str, Tensor]:
        """Boolean views of the masks (new tensors)."""
        return {n: m.bool() for n, m in self._masks.items()}

    # ----------------------------------------------------------------- statistics
    def numel(self) -> int:
        """Number of masked (prunable) weights."""
        return sum(m.numel() for m in self._masks.values())

    def kept(self) -> int:
        """Number of weights kept (mask 1). Synchronises with the device: not per-step."""
        return int(sum(int(m.bool().sum()) for m in self._masks.values()))

    def prunable_sparsity(self) -> float:
        """Fraction of prunable weights that are pruned."""
        n = self.numel()
        return 0.0 if n == 0 else 1.0 - self.kept() / n

    def network_sparsity(self, total_params: int) -> float:
        """Pruned weights over all parameters of the network (the paper's definition).

        Args:
            total_params: number of elements of all named parameters of the model.

        Returns:
            float: network sparsity in [0, 1].
        """
        return (self.numel() - self.kept()) / max(int(total_params), 1)

    def per_tensor(self) -> Dict[str, Dict[str, float]]:
        """Per-tensor ``numel``, ``kept`` and ``sparsity``."""
        out = {}
        for n, m in self._masks.items():
            kept = int(m.bool().sum())
            out[n] = dict(numel=m.numel(), kept=kept, sparsity=1.0 - kept / max(m.numel(), 1))
        return out

    def iou(self, other: 'MaskSet') -> float:
        """Intersection over union of the kept weights of two mask sets (same names)."""
        inter = union = 0
        for n, m in self._masks.items():
            a, b = m.bool(), other[n].bool().to(m.device)
            inter += int((a & b).sum())
            union += int((a | b).sum())
        return 1.0 if union == 0 else inter / union

    def equal(self, other: 'MaskSet') -> bool:
        """True if both sets have the same names, shapes and values."""
        if self.names() != other.names():
            return False
        return all(torch.equal(m.bool().cpu(), other[n].bool().cpu())
                   for n, m in self._masks.items())

    # ----------------------------------------------------------------- binding to a model
    def bind_(self, params: Mapping[str, Tensor]) -> 'MaskSet':
        """Move/cast masks to the device and dtype of the matching parameters, in place.

        Call once after the model is on its final device; enforcement then runs with no
        transfers.

        Args:
            params: parameters by name (must contain every masked name).

        Returns:
            MaskSet: self.
        """
        for n, m in list(self._masks.items()):
            p = params[n]
            if m.shape != p.shape:
                raise ValueError(f'mask {n!r} has shape {tuple(m.shape)}, '
                                 f'the parameter has {tuple(p.shape)}')
            if m.device != p.device or m.dtype != p.dtype:
                self._masks[n] = m.to(device=p.device, dtype=p.dtype)
        return self

    def update_(self, new_masks: Mapping[str, Tensor]) -> None:
        """Overwrite the mask values in place (tensors keep their identity).

        Args:
            new_masks: masks by name, same names and shapes.
        """
        if set(new_masks) != set(self._masks):
            raise ValueError('update_: the new masks cover different parameter names')
        for n, m in self._masks.items():
            m.copy_(new_masks[n].to(device=m.device, dtype=m.dtype))

    @torch.no_grad()
    def apply_(self, params: Mapping[str, Tensor], names: Optional[List[str]] = None) -> None:
        """Zero the pruned entries of ``params`` in place (one fused kernel per dtype).

        Args:
            params: tensors by name (parameters, EMA copies, state-dict entries).
            names: subset of names to apply (default: all masked names).
        """
        names = self.names() if names is None else names
        tensors = [params[n] for n in names]
        masks = [self._masks[n] for n in names]
        if not tensors:
            return
        if all(t.dtype == m.dtype and t.device == m.device for t, m in zip(tensors, masks)):
            torch._foreach_mul_(tensors, masks)
        else:
            for t, m in zip(tensors, masks):
                t.mul_(m.to(device=t.device, dtype=t.dtype))

    # ----------------------------------------------------------------- persistence
    def state_dict(self) -> Dict[str, list]:
        """Bit-packed CPU representation (1 bit per weight).

        Returns:
            dict: ``{'names': [...], 'shapes': [...], 'bits': [uint8 tensors]}``.
        """
        return dict(names=self.names(),
                    shapes=[list(m.shape) for m in self._masks.values()],
                    bits=[pack_bool(m) for m in self._masks.values()])


def count_parameters(model: nn.Module) -> int:
    """Number of elements of all named parameters (the paper's network size)."""
    return sum(p.numel() for p in model.parameters())


def zero_fraction(tensors: Iterable[Tensor]) -> float:
    """Fraction of exactly-zero entries (a check of sparsity from the weights themselves)."""
    zeros = total = 0
    for t in tensors:
        zeros += int((t == 0).sum())
        total += t.numel()
    return zeros / max(total, 1)
