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
from .codec import (COMPACT_FORMAT, COMPACT_VERSION, MASK_SUFFIX, VALUES_SUFFIX,
                    CompactError, dense_state_bytes, zero_signs_normalized)
from .decode import Compact, check_fits, decode, load_compact
from .encode import CompactStats, encode, save_compact

__all__ = ['COMPACT_FORMAT', 'COMPACT_VERSION', 'MASK_SUFFIX', 'VALUES_SUFFIX', 'CompactError',
           'CompactStats', 'Compact', 'encode', 'decode', 'save_compact', 'load_compact',
           'check_fits', 'zero_signs_normalized', 'dense_state_bytes']
