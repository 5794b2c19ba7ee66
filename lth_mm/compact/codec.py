# Copyright (c) lth_mm authors. All rights reserved.
"""The byte-level pieces of the ``.lthc`` format (described in :mod:`lth_mm.compact`):
constants, byte shuffling, checksums, dtype names and entropy bounds."""
import hashlib
import json
import zlib
from typing import Any, Mapping

import numpy as np
import torch

COMPACT_FORMAT = 'lth_mm.compact'
COMPACT_VERSION = 1
MASK_SUFFIX = '|mask'
VALUES_SUFFIX = '|values'
# Appended to every 'cannot read' error: how to get a good file.
REWRITE_HINT = ('Write the file again with `python tools/compress.py CHECKPOINT --out FILE` '
                "(or the lottery run's CompactTicketHook).")


class CompactError(ValueError):
    """A compact file is unreadable, corrupt, or does not fit the data or model given."""


def require(module: str):
    """Import an optional dependency (safetensors, zstandard) with an install hint."""
    try:
        return __import__(module)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f'lth_mm.compact needs the `{module}` package: '
                          f'pip install {module}') from e


def fingerprint(entries) -> str:
    """sha256 of the entries' keys, dtypes and shapes: detects a damaged key list."""
    text = '\n'.join(f"{e['key']}:{e['dtype']}:{e['shape']}" for e in entries)
    return hashlib.sha256(text.encode()).hexdigest()


def crc32_of(t: torch.Tensor) -> int:
    """CRC-32 of a tensor's bytes (checked for every rebuilt tensor on load)."""
    return zlib.crc32(as_bytes(t))


def as_bytes(t: torch.Tensor) -> memoryview:
    """The raw bytes of a tensor (CPU, contiguous)."""
    t = t.detach().contiguous().cpu()
    if t.numel() == 0:
        return memoryview(b'')
    # view as bytes without a copy (bfloat16 has no numpy dtype, uint8 view works for all)
    return memoryview(t.view(-1).view(torch.uint8).numpy())


def shuffle_bytes(t: torch.Tensor) -> np.ndarray:
    """Bytes of ``t`` grouped by byte position (all first bytes, then all second ...)."""
    item = t.element_size()
    raw = np.frombuffer(as_bytes(t), dtype=np.uint8)
    return np.ascontiguousarray(raw.reshape(-1, item).T) if item > 1 else raw


def unshuffle_bytes(buf: bytes, dtype: torch.dtype, n: int) -> torch.Tensor:
    """The inverse of :func:`shuffle_bytes`: ``n`` values of ``dtype`` from ``buf``."""
    item = torch.empty(0, dtype=dtype).element_size()
    raw = np.frombuffer(buf, dtype=np.uint8)
    if raw.size != n * item:
        raise ValueError(f'decoded {raw.size} bytes, expected {n * item}')
    if item > 1:
        raw = np.ascontiguousarray(raw.reshape(item, n).T)
    return torch.from_numpy(raw.reshape(-1).copy()).view(dtype)


def byte_entropy(data: np.ndarray) -> float:
    """Order-0 entropy in bytes of a uint8 array (per byte-plane when shuffled)."""
    if data.size == 0:
        return 0.0
    counts = np.bincount(data, minlength=256).astype(np.float64)
    p = counts[counts > 0] / data.size
    return float(-(p * np.log2(p)).sum() * data.size / 8)


def binary_entropy_bytes(n: int, k: int) -> float:
    """Entropy in bytes of a mask of ``n`` bits with ``k`` set."""
    if n == 0 or k in (0, n):
        return 0.0
    p = k / n
    return float(n * -(p * np.log2(p) + (1 - p) * np.log2(1 - p)) / 8)


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``'float32'`` (the header's dtype names)."""
    return str(dtype).replace('torch.', '')


def dtype_from_name(name: str) -> torch.dtype:
    """The inverse of :func:`dtype_name`; ValueError for an unknown name."""
    dt = getattr(torch, name, None)
    if not isinstance(dt, torch.dtype):
        raise ValueError(f'unknown dtype {name!r}')
    return dt


def json_safe(obj: Any) -> Any:
    """Drop what JSON cannot hold (the checkpoint meta is informative only)."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            try:
                json.dumps(v)
                out[str(k)] = v
            except (TypeError, ValueError):
                v = json_safe(v) if isinstance(v, (Mapping, list, tuple)) else None
                if v is not None:
                    out[str(k)] = v
        return out
    if isinstance(obj, (list, tuple)):
        try:
            json.dumps(list(obj))
            return list(obj)
        except (TypeError, ValueError):
            return None
    return obj


def zero_signs_normalized(t: torch.Tensor) -> torch.Tensor:
    """``t`` with every ``-0.0`` made ``+0.0`` (what decoding gives for pruned entries)."""
    return torch.where(t == 0, torch.zeros_like(t), t) if t.is_floating_point() else t


def scatter(values: torch.Tensor, mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A tensor shaped like ``like``: ``values`` where ``mask`` is set, zeros elsewhere."""
    out = torch.zeros(like.numel(), dtype=values.dtype)
    out[mask.flatten()] = values
    return out.view(like.shape)



def dense_state_bytes(state_dict: Mapping[str, torch.Tensor]) -> int:
    """Bytes of a state dict stored densely in its own dtypes (the reference size)."""
    return sum(t.numel() * t.element_size() for t in state_dict.values())
