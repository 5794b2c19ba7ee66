# Copyright (c) lth_mm authors. All rights reserved.
"""Reading and checking a ``.lthc`` file (the format: :mod:`lth_mm.compact`)."""
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

import numpy as np
import torch

from .codec import (COMPACT_FORMAT, COMPACT_VERSION, MASK_SUFFIX, REWRITE_HINT, VALUES_SUFFIX,
                    CompactError, crc32_of, dtype_from_name, fingerprint, require, scatter,
                    unshuffle_bytes)

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
        raise CompactError(f'cannot read compact file {path!r} ({e}). {REWRITE_HINT}') from e
    return decode(data, expected=expected, source=path)


def _parse_container(data: bytes, source: str):
    """Header and tensors of a safetensors container, with errors that say what is wrong."""
    st = require('safetensors.torch').torch
    if len(data) < 8:
        raise CompactError(f'{source!r} is truncated ({len(data)} bytes). {REWRITE_HINT}')
    hlen = int.from_bytes(data[:8], 'little')
    if data[8:9] != b'{':  # a safetensors header is a JSON object
        raise CompactError(f'{source!r} is not a compact lth_mm file (no safetensors '
                           'header; a checkpoint or a ticket.pth is not one). ' + REWRITE_HINT)
    if hlen > len(data) - 8:
        raise CompactError(f'{source!r} is truncated or not a compact file (header of '
                           f'{hlen} bytes, file of {len(data)}). {REWRITE_HINT}')
    try:
        raw_header = json.loads(data[8:8 + hlen])
    except (ValueError, UnicodeDecodeError) as e:
        raise CompactError(f'{source!r} is not a compact lth_mm file (no readable header: '
                           f'{e}). {REWRITE_HINT}') from e
    meta = raw_header.get('__metadata__') if isinstance(raw_header, dict) else None
    if not isinstance(meta, dict) or meta.get('format') != COMPACT_FORMAT:
        raise CompactError(f'{source!r} is not a compact lth_mm file (no format='
                           f'{COMPACT_FORMAT!r}; a checkpoint or a ticket.pth is not one). '
                           f'{REWRITE_HINT}')
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
                           f'{REWRITE_HINT}') from e
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
        if fingerprint(entries) != header['fingerprint']:
            raise ValueError('the key list does not match its fingerprint')
    except (KeyError, TypeError, ValueError) as e:
        raise CompactError(f'{source!r} has a corrupt header ({e}). {REWRITE_HINT}') from e
    if expected is not None:
        check_fits(header, expected, source)
    zstd = None
    out, masks = OrderedDict(), {}
    for e in entries:
        k = e['key']
        try:
            dtype, stored = dtype_from_name(e['dtype']), dtype_from_name(e['stored_dtype'])
            shape = tuple(e['shape'])
            name = k + VALUES_SUFFIX if e['layout'] == 'masked' else k
            blob = tensors[name]
            if e['codec'] == 'shuffle_zstd':
                if zstd is None:
                    zstd = require('zstandard').ZstdDecompressor()
                nbytes = e['nnz'] * torch.empty(0, dtype=stored).element_size()
                payload = unshuffle_bytes(zstd.decompress(blob.numpy().tobytes(),
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
                t = scatter(payload, m, torch.empty(shape))
                masks[k] = m.view(shape)
            else:
                t = payload.reshape(shape).clone()
        except CompactError:
            raise
        except Exception as err:  # zstd, numpy and key errors all mean a damaged file
            raise CompactError(f'{source!r} is corrupt at tensor {k!r} '
                               f'({type(err).__name__}: {err}). {REWRITE_HINT}') from err
        if crc32_of(t) != e['crc32']:
            raise CompactError(f'{source!r} is corrupt: tensor {k!r} fails its CRC-32 check. '
                               f'{REWRITE_HINT}')
        out[k] = t
    return Compact(state_dict=out, masks=masks, header=header)
