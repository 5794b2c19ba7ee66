# Copyright (c) lth_mm authors. All rights reserved.
"""Encoding a state dict into a ``.lthc`` file (the format: :mod:`lth_mm.compact`)."""
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
import torch

from ..fileio import _atomic
from .codec import (COMPACT_FORMAT, COMPACT_VERSION, MASK_SUFFIX, VALUES_SUFFIX, CompactError,
                    binary_entropy_bytes, byte_entropy, crc32_of, dtype_name, fingerprint,
                    json_safe, require, scatter, shuffle_bytes)


@dataclass
class CompactStats:
    """Sizes of one compact encoding.

    Args:
        compact_bytes: size of the file.
        dense_bytes: size of the state dict stored densely in its own dtypes.
        masked_tensors: number of tensors stored as bitmask + values.
        masked_numel: weights in those tensors.
        kept: non-pruned weights among them.
        entropy_bytes: the entropy bound of the masked tensors' information: the mask at
            its binary entropy plus the kept values at the empirical entropy of their
            byte-shuffled bytes (order-0), plus the dense tensors as stored.
    """
    compact_bytes: int = 0
    dense_bytes: int = 0
    masked_tensors: int = 0
    masked_numel: int = 0
    kept: int = 0
    entropy_bytes: float = 0.0
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """compact / dense."""
        return self.compact_bytes / max(self.dense_bytes, 1)



def encode(state_dict: Mapping[str, torch.Tensor],
           masks: Optional[Mapping[str, torch.Tensor]] = None,
           zstd_level: Optional[int] = 3, fp16: bool = False,
           meta: Optional[Mapping] = None,
           ticket_meta: Optional[Mapping] = None,
           progress: bool = False) -> Tuple[bytes, CompactStats]:
    """Encode a state dict as a compact file (bytes).

    Args:
        state_dict: tensors by key (an mmengine checkpoint's ``state_dict``).
        masks: boolean masks by state-dict key: these tensors are stored as bitmask +
            values; every weight outside its mask must be zero (checked before anything
            is encoded). None: infer them from the zeros: every floating tensor with
            2+ dims whose bitmask + non-zeros is smaller than the dense tensor.
        zstd_level: zstd level for byte-shuffled values and dense tensors; None stores
            them raw (bitmask + raw values).
        fp16: store floating values as float16 (lossy).
        meta: JSON-safe parts are kept (e.g. mmengine checkpoint ``meta``).
        ticket_meta: the ticket's metadata, kept in the header.
        progress: show mmengine's progress bar (with ETA) over the tensors, for the tool.

    Returns:
        tuple: the file's bytes and its :class:`CompactStats`.

    Raises:
        CompactError: a mask does not fit its tensor, weights are alive outside a mask,
            an fp16 value overflows.
    """
    st = require('safetensors.torch').torch
    zstd = require('zstandard') if zstd_level is not None else None
    state_dict = OrderedDict((k, v.detach().cpu()) for k, v in state_dict.items())

    if masks is not None:
        masks = {k: m.detach().cpu().bool() for k, m in masks.items()}
        unknown = [k for k in masks if k not in state_dict]
        if unknown:
            raise CompactError(f'the ticket masks {len(unknown)} tensors the checkpoint does '
                               f'not have (e.g. {unknown[:3]}): the ticket belongs to another '
                               'model. Give the ticket written for this checkpoint.')
        for k, m in masks.items():
            t = state_dict[k]
            if tuple(m.shape) != tuple(t.shape):
                raise CompactError(f'ticket mask {k!r} has shape {tuple(m.shape)}, the '
                                   f'checkpoint tensor {tuple(t.shape)}: another model. Give '
                                   'the ticket written for this checkpoint.')
            alive_outside = int((t[~m] != 0).sum())
            if alive_outside:
                raise CompactError(
                    f'{k!r} has {alive_outside} non-zero weights outside the ticket mask: '
                    'the checkpoint does not belong to this ticket (or its masks were not '
                    'enforced). Compress without --ticket to store its own zeros, or give '
                    'the ticket of the round that wrote the checkpoint.')
    else:
        masks = {}
        for k, t in state_dict.items():
            if t.is_floating_point() and t.dim() >= 2:
                nz = t != 0
                kept = int(nz.sum())
                if kept * t.element_size() + (t.numel() + 7) // 8 < t.numel() * t.element_size():
                    masks[k] = nz

    cctx = zstd.ZstdCompressor(level=zstd_level) if zstd is not None else None
    tensors, entries = {}, []
    stats = CompactStats()
    entropy = 0.0
    bar = None
    if progress:
        from mmengine.utils import ProgressBar  # only the tool asks for a bar
        bar = ProgressBar(len(state_dict))
    for k, t in state_dict.items():
        if bar is not None:
            bar.update()
        entry = dict(key=k, dtype=dtype_name(t.dtype), shape=list(t.shape))
        stats.dense_bytes += t.numel() * t.element_size()
        m = masks.get(k)
        payload = t.contiguous()
        if m is not None:
            flat_m = m.flatten()
            payload = t.flatten()[flat_m]
            tensors[k + MASK_SUFFIX] = torch.from_numpy(np.packbits(flat_m.numpy()))
            entry.update(layout='masked', nnz=int(payload.numel()))
            stats.masked_tensors += 1
            stats.masked_numel += t.numel()
            stats.kept += int(payload.numel())
            entropy += binary_entropy_bytes(t.numel(), int(payload.numel()))
        else:
            entry.update(layout='dense', nnz=int(t.numel()))
        rebuilt_dtype = t.dtype
        if fp16 and t.is_floating_point() and t.dtype != torch.float16:
            finite = payload[torch.isfinite(payload)]
            if finite.numel() and float(finite.abs().max()) > torch.finfo(torch.float16).max:
                raise CompactError(f'{k!r} has values beyond the float16 range; compress '
                                   'it without --fp16.')
            payload = payload.to(torch.float16)
        entry['stored_dtype'] = dtype_name(payload.dtype)
        # CRC of exactly what decoding must give back (fp16: the rounded values)
        rebuilt = scatter(payload.to(rebuilt_dtype), m, t) if m is not None else \
            payload.to(rebuilt_dtype).view(t.shape)
        entry['crc32'] = crc32_of(rebuilt)
        name = k + VALUES_SUFFIX if m is not None else k
        if m is not None:
            entropy += sum(byte_entropy(plane) for plane in
                           shuffle_bytes(payload).reshape(payload.element_size(), -1))
        else:
            entropy += payload.numel() * payload.element_size()
        if cctx is not None and payload.numel() * payload.element_size() >= 4096:
            blob = cctx.compress(shuffle_bytes(payload).tobytes())
            if len(blob) < payload.numel() * payload.element_size():
                tensors[name] = torch.frombuffer(bytearray(blob), dtype=torch.uint8)
                entry['codec'] = 'shuffle_zstd'
                entries.append(entry)
                continue
        tensors[name] = payload.contiguous().clone()
        entry['codec'] = 'raw'
        entries.append(entry)
    header = dict(entries=entries, fingerprint=fingerprint(entries), fp16=bool(fp16),
                  meta=json_safe(dict(meta or {})), ticket_meta=json_safe(dict(ticket_meta
                                                                                 or {})))
    data = st.save(tensors, metadata=dict(format=COMPACT_FORMAT, version=str(COMPACT_VERSION),
                                          header=json.dumps(header)))
    stats.compact_bytes = len(data)
    stats.entropy_bytes = entropy
    return data, stats


def save_compact(path: str, state_dict: Mapping[str, torch.Tensor],
                 masks: Optional[Mapping[str, torch.Tensor]] = None, **kwargs) -> CompactStats:
    """Encode (see :func:`encode`) and write atomically: nothing is written on an error.

    Args:
        path: destination file (``.lthc``).
        state_dict: tensors by key.
        masks: masks by key, or None to use the zeros.
        **kwargs: ``zstd_level``, ``fp16``, ``meta``, ``ticket_meta``, ``progress``.

    Returns:
        CompactStats: sizes.
    """
    data, stats = encode(state_dict, masks, **kwargs)
    _atomic(path, lambda f: f.write(data))
    return stats

