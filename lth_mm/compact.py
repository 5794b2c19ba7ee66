# Copyright (c) lth_mm authors. All rights reserved.
"""The compact lossless ticket: a pruned model's weights as bitmask + non-zero values.

This module owns the ``.lthc`` file format (pure PyTorch/numpy; no mmengine). A file is a
`safetensors <https://github.com/huggingface/safetensors>`_ container (no pickle, so a
downloaded file cannot run code) whose ``__metadata__`` carries a JSON header::

    __metadata__ = {'format': 'lth_mm.compact', 'version': '1', 'header': JSON}
    header = {'entries': [{'key', 'dtype', 'shape', 'layout': 'dense' | 'masked',
                           'codec': 'raw' | 'shuffle_zstd', 'stored_dtype', 'nnz',
                           'crc32'}, ...],           # state_dict order
              'fingerprint': sha256 of the keys/shapes/dtypes,
              'meta': the checkpoint's JSON-safe meta, 'ticket_meta': ..., 'fp16': bool}
    tensors: KEY|mask    uint8, the mask packed 8 weights a byte (numpy.packbits order)
             KEY|values  the kept values in flat order (raw dtype, or a uint8 zstd blob)
             KEY         a dense tensor (raw, or a uint8 zstd blob)

Why these choices (measured in ``docs/benchmarks.md``): safetensors has no sparse or
bit type, so masks are packed by hand; a bitmask costs 1 bit per weight against 32 bits
for an int32 index and wins above ~3% density; ``shuffle_zstd`` stores the k-th bytes of
all values together before zstd (the byte-shuffle idea of Blosc/HDF5, written here in
numpy because no kept library exposes it for a single buffer), which lets zstd squeeze
the low-entropy exponent bytes of fp32 weights.

Losslessness: every stored value is kept bit for bit and decoding rebuilds each tensor
with its dtype, shape and ``state_dict`` order; a CRC-32 of every rebuilt tensor is checked
on load. Pruned entries come back as ``+0.0``: a weight pruned by multiplying with a 0
mask is ``-0.0`` when it was negative, and keeping those signs would cost one more
incompressible bit per pruned weight (+2.5% of dense at keep 0.2), so ``-0.0 == +0.0``
(``torch.equal``) is the guarantee for pruned entries. ``fp16=True`` stores floating
values as float16 (lossy: within fp16 rounding, |error| <= 2^-11 relative, and values
beyond the fp16 range are refused).
"""
import hashlib
import json
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np
import torch

from .fileio import _atomic

COMPACT_FORMAT = 'lth_mm.compact'
COMPACT_VERSION = 1
MASK_SUFFIX = '|mask'
VALUES_SUFFIX = '|values'
_HINT = ('Write the file again with `python tools/compress.py CHECKPOINT --out FILE` (or the '
         'lottery run\'s CompactTicketHook).')


class CompactError(ValueError):
    """A compact file is unreadable, corrupt, or does not fit the data or model given."""


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


def _require(module: str):
    try:
        return __import__(module)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f'lth_mm.compact needs the `{module}` package: '
                          f'pip install {module}') from e


def _fingerprint(entries) -> str:
    text = '\n'.join(f"{e['key']}:{e['dtype']}:{e['shape']}" for e in entries)
    return hashlib.sha256(text.encode()).hexdigest()


def _crc(t: torch.Tensor) -> int:
    return zlib.crc32(_as_bytes(t))


def _as_bytes(t: torch.Tensor) -> memoryview:
    t = t.detach().contiguous().cpu()
    if t.numel() == 0:
        return memoryview(b'')
    # view as bytes without a copy (bfloat16 has no numpy dtype, uint8 view works for all)
    return memoryview(t.view(-1).view(torch.uint8).numpy())


def _shuffle(t: torch.Tensor) -> np.ndarray:
    """Bytes of ``t`` grouped by byte position (all first bytes, then all second ...)."""
    item = t.element_size()
    raw = np.frombuffer(_as_bytes(t), dtype=np.uint8)
    return np.ascontiguousarray(raw.reshape(-1, item).T) if item > 1 else raw


def _unshuffle(buf: bytes, dtype: torch.dtype, n: int) -> torch.Tensor:
    item = torch.empty(0, dtype=dtype).element_size()
    raw = np.frombuffer(buf, dtype=np.uint8)
    if raw.size != n * item:
        raise ValueError(f'decoded {raw.size} bytes, expected {n * item}')
    if item > 1:
        raw = np.ascontiguousarray(raw.reshape(item, n).T)
    return torch.from_numpy(raw.reshape(-1).copy()).view(dtype)


def _byte_entropy(data: np.ndarray) -> float:
    """Order-0 entropy in bytes of a uint8 array (per byte-plane when shuffled)."""
    if data.size == 0:
        return 0.0
    counts = np.bincount(data, minlength=256).astype(np.float64)
    p = counts[counts > 0] / data.size
    return float(-(p * np.log2(p)).sum() * data.size / 8)


def _binary_entropy_bytes(n: int, k: int) -> float:
    if n == 0 or k in (0, n):
        return 0.0
    p = k / n
    return float(n * -(p * np.log2(p) + (1 - p) * np.log2(1 - p)) / 8)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace('torch.', '')


def _dtype(name: str) -> torch.dtype:
    dt = getattr(torch, name, None)
    if not isinstance(dt, torch.dtype):
        raise ValueError(f'unknown dtype {name!r}')
    return dt


def _json_safe(obj: Any) -> Any:
    """Drop what JSON cannot hold (the checkpoint meta is informative only)."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            try:
                json.dumps(v)
                out[str(k)] = v
            except (TypeError, ValueError):
                v = _json_safe(v) if isinstance(v, (Mapping, list, tuple)) else None
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
    st = _require('safetensors.torch').torch
    zstd = _require('zstandard') if zstd_level is not None else None
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
        entry = dict(key=k, dtype=_dtype_name(t.dtype), shape=list(t.shape))
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
            entropy += _binary_entropy_bytes(t.numel(), int(payload.numel()))
        else:
            entry.update(layout='dense', nnz=int(t.numel()))
        rebuilt_dtype = t.dtype
        if fp16 and t.is_floating_point() and t.dtype != torch.float16:
            finite = payload[torch.isfinite(payload)]
            if finite.numel() and float(finite.abs().max()) > torch.finfo(torch.float16).max:
                raise CompactError(f'{k!r} has values beyond the float16 range; compress '
                                   'it without --fp16.')
            payload = payload.to(torch.float16)
        entry['stored_dtype'] = _dtype_name(payload.dtype)
        # CRC of exactly what decoding must give back (fp16: the rounded values)
        rebuilt = _scatter(payload.to(rebuilt_dtype), m, t) if m is not None else \
            payload.to(rebuilt_dtype).view(t.shape)
        entry['crc32'] = _crc(rebuilt)
        name = k + VALUES_SUFFIX if m is not None else k
        if m is not None:
            entropy += sum(_byte_entropy(plane) for plane in
                           _shuffle(payload).reshape(payload.element_size(), -1))
        else:
            entropy += payload.numel() * payload.element_size()
        if cctx is not None and payload.numel() * payload.element_size() >= 4096:
            blob = cctx.compress(_shuffle(payload).tobytes())
            if len(blob) < payload.numel() * payload.element_size():
                tensors[name] = torch.frombuffer(bytearray(blob), dtype=torch.uint8)
                entry['codec'] = 'shuffle_zstd'
                entries.append(entry)
                continue
        tensors[name] = payload.contiguous().clone()
        entry['codec'] = 'raw'
        entries.append(entry)
    header = dict(entries=entries, fingerprint=_fingerprint(entries), fp16=bool(fp16),
                  meta=_json_safe(dict(meta or {})), ticket_meta=_json_safe(dict(ticket_meta
                                                                                 or {})))
    data = st.save(tensors, metadata=dict(format=COMPACT_FORMAT, version=str(COMPACT_VERSION),
                                          header=json.dumps(header)))
    stats.compact_bytes = len(data)
    stats.entropy_bytes = entropy
    return data, stats


def _scatter(values: torch.Tensor, mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(like.numel(), dtype=values.dtype)
    out[mask.flatten()] = values
    return out.view(like.shape)


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


@dataclass
class Compact:
    """A decoded compact file.

    Args:
        state_dict: the rebuilt tensors, in the original order.
        masks: boolean masks of the tensors stored as bitmask + values.
        header: the JSON header (entries, fingerprint, meta, ticket_meta, fp16).
    """
    state_dict: 'OrderedDict[str, torch.Tensor]'
    masks: Dict[str, torch.Tensor]
    header: Dict[str, Any]


def load_compact(path: str, expected: Optional[Mapping[str, torch.Tensor]] = None) -> Compact:
    """Read, check and decode a compact file.

    Args:
        path: the ``.lthc`` file.
        expected: a model's ``state_dict()`` (or any key -> tensor mapping); if given, the
            file must hold exactly these keys with these shapes.

    Returns:
        Compact: the rebuilt state dict, masks and header.

    Raises:
        CompactError: missing, truncated, corrupt, not a compact file, newer format,
            or made for another model.
    """
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise CompactError(f'cannot read compact file {path!r} ({e}). {_HINT}') from e
    return decode(data, expected=expected, source=path)


def _parse_container(data: bytes, source: str):
    """Header and tensors of a safetensors container, with errors that say what is wrong."""
    st = _require('safetensors.torch').torch
    if len(data) < 8:
        raise CompactError(f'{source!r} is truncated ({len(data)} bytes). {_HINT}')
    hlen = int.from_bytes(data[:8], 'little')
    if data[8:9] != b'{':  # a safetensors header is a JSON object
        raise CompactError(f'{source!r} is not a compact lth_mm file (no safetensors '
                           'header; a checkpoint or a ticket.pth is not one). ' + _HINT)
    if hlen > len(data) - 8:
        raise CompactError(f'{source!r} is truncated or not a compact file (header of '
                           f'{hlen} bytes, file of {len(data)}). {_HINT}')
    try:
        raw_header = json.loads(data[8:8 + hlen])
    except (ValueError, UnicodeDecodeError) as e:
        raise CompactError(f'{source!r} is not a compact lth_mm file (no readable header: '
                           f'{e}). {_HINT}') from e
    meta = raw_header.get('__metadata__') if isinstance(raw_header, dict) else None
    if not isinstance(meta, dict) or meta.get('format') != COMPACT_FORMAT:
        raise CompactError(f'{source!r} is not a compact lth_mm file (no format='
                           f'{COMPACT_FORMAT!r}; a checkpoint or a ticket.pth is not one). '
                           f'{_HINT}')
    try:
        version = int(meta.get('version', 0))
    except ValueError:
        version = -1
    if version > COMPACT_VERSION or version < 1:
        raise CompactError(f'{source!r} has compact format version {meta.get("version")!r}; '
                           f'this lth_mm reads version {COMPACT_VERSION}: upgrade lth_mm.')
    try:
        header = json.loads(meta['header'])
        tensors = st.load(data)
    except Exception as e:  # safetensors raises its own error types for bad offsets
        raise CompactError(f'{source!r} is truncated or corrupt ({type(e).__name__}: {e}). '
                           f'{_HINT}') from e
    return header, tensors


def check_fits(header: Mapping, expected: Mapping[str, torch.Tensor], source: str) -> None:
    """Check that a compact file was made for a model (keys and shapes).

    Args:
        header: the file's JSON header.
        expected: the model's ``state_dict()``.
        source: file name for the message.

    Raises:
        CompactError: listing missing, unexpected and reshaped keys.
    """
    shapes = {e['key']: tuple(e['shape']) for e in header['entries']}
    want = {k: tuple(v.shape) for k, v in expected.items()}
    missing = [k for k in want if k not in shapes]
    extra = [k for k in shapes if k not in want]
    reshaped = [f'{k}: file {shapes[k]} vs model {want[k]}' for k in want
                if k in shapes and shapes[k] != want[k]]
    if missing or extra or reshaped:
        raise CompactError(
            f'{source!r} was made for another model: {len(missing)} keys missing '
            f'(e.g. {missing[:3]}), {len(extra)} unexpected (e.g. {extra[:3]}), '
            f'{len(reshaped)} with other shapes (e.g. {reshaped[:2]}). Use the compact file '
            'of this config, or decompress it for the model it was written from.')


def decode(data: bytes, expected: Optional[Mapping[str, torch.Tensor]] = None,
           source: str = '<bytes>') -> Compact:
    """Decode compact-file bytes (see :func:`load_compact`).

    Args:
        data: file content.
        expected: optional model ``state_dict()`` the file must fit.
        source: name for messages.

    Returns:
        Compact: decoded content.
    """
    header, tensors = _parse_container(data, source)
    try:
        entries = header['entries']
        if _fingerprint(entries) != header['fingerprint']:
            raise ValueError('the key list does not match its fingerprint')
    except (KeyError, TypeError, ValueError) as e:
        raise CompactError(f'{source!r} has a corrupt header ({e}). {_HINT}') from e
    if expected is not None:
        check_fits(header, expected, source)
    zstd = None
    out, masks = OrderedDict(), {}
    for e in entries:
        k = e['key']
        try:
            dtype, stored = _dtype(e['dtype']), _dtype(e['stored_dtype'])
            shape = tuple(e['shape'])
            name = k + VALUES_SUFFIX if e['layout'] == 'masked' else k
            blob = tensors[name]
            if e['codec'] == 'shuffle_zstd':
                if zstd is None:
                    zstd = _require('zstandard').ZstdDecompressor()
                nbytes = e['nnz'] * torch.empty(0, dtype=stored).element_size()
                payload = _unshuffle(zstd.decompress(blob.numpy().tobytes(),
                                                     max_output_size=nbytes), stored, e['nnz'])
            elif e['codec'] == 'raw':
                payload = blob.flatten()
                if payload.dtype != stored or payload.numel() != e['nnz']:
                    raise ValueError(f'stored {payload.dtype} x {payload.numel()}, header '
                                     f'says {stored} x {e["nnz"]}')
            else:
                raise ValueError(f'unknown codec {e["codec"]!r}')
            payload = payload.to(dtype)
            if e['layout'] == 'masked':
                numel = int(np.prod(shape)) if shape else 1
                bits = np.unpackbits(tensors[k + MASK_SUFFIX].numpy())
                if bits.size < numel or bits.size - numel >= 8:
                    raise ValueError(f'mask has {bits.size} bits for {numel} weights')
                m = torch.from_numpy(bits[:numel].astype(bool))
                if int(m.sum()) != payload.numel():
                    raise ValueError(f'mask keeps {int(m.sum())}, {payload.numel()} values')
                t = _scatter(payload, m, torch.empty(shape))
                masks[k] = m.view(shape)
            else:
                t = payload.reshape(shape).clone()
        except CompactError:
            raise
        except Exception as err:  # zstd, numpy and key errors all mean a damaged file
            raise CompactError(f'{source!r} is corrupt at tensor {k!r} '
                               f'({type(err).__name__}: {err}). {_HINT}') from err
        if _crc(t) != e['crc32']:
            raise CompactError(f'{source!r} is corrupt: tensor {k!r} fails its CRC-32 check. '
                               f'{_HINT}')
        out[k] = t
    return Compact(state_dict=out, masks=masks, header=header)


def dense_state_bytes(state_dict: Mapping[str, torch.Tensor]) -> int:
    """Bytes of a state dict stored densely in its own dtypes (the reference size)."""
    return sum(t.numel() * t.element_size() for t in state_dict.values())
