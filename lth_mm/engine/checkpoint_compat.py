# Copyright (c) lth_mm authors. All rights reserved.
"""Let mmengine 0.10.x load its own checkpoints under torch >= 2.6, safely.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7's local loader
calls ``torch.load(filename, map_location=...)``, and every checkpoint mmengine writes holds
a ``message_hub`` with ``HistoryBuffer`` objects and NumPy arrays (and lth_mm's RNG states
hold NumPy arrays), so ``--resume`` fails with "Weights only load failed".

We keep safe loading on and allow exactly the types those checkpoints contain (through
``torch.serialization.safe_globals``, only for the duration of each load): mmengine's
``HistoryBuffer`` and NumPy's array/scalar reconstruction. A ``HistoryBuffer`` pickles its
statistics methods as ``getattr(HistoryBuffer, 'mean')``; ``getattr`` itself would let a
pickle reach anything, so the name ``builtins.getattr`` is bound to
:func:`_history_buffer_getattr`, which only returns ``HistoryBuffer``'s own statistics
methods. Anything else in a pickle is still refused by torch, so ``load_from`` and
``init_cfg=Pretrained`` files cannot run code. mmengine's
local-file scheme is re-registered through its own ``CheckpointLoader`` registry (nothing is
patched); remote (http) loading is left to mmengine.
"""
import os.path as osp
import pickle
from typing import List

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version

_NEEDS_COMPAT = digit_version(torch.__version__.split('+')[0]) >= digit_version('2.6.0')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to HistoryBuffer's statistics methods (used by unpickling)."""
    allowed = set(getattr(HistoryBuffer, '_statistics_methods', {})) | {
        'min', 'max', 'mean', 'current'}
    if (obj is HistoryBuffer or isinstance(obj, HistoryBuffer)) and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({type(obj).__name__}, {name!r}) while loading a checkpoint: only '
        "HistoryBuffer's statistics methods are allowed.")


def mmengine_safe_globals() -> List[object]:
    """The non-tensor types an mmengine / lth_mm checkpoint legitimately holds.

    Returns:
        list: classes and functions for ``torch.serialization.safe_globals``.
    """
    try:  # NumPy 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - NumPy 1
        from numpy.core.multiarray import _reconstruct, scalar
    dtypes = {type(np.dtype(t)) for t in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
        'float16', 'float32', 'float64', 'complex64', 'complex128', 'object', 'U1', 'S1')}
    return [HistoryBuffer, np.ndarray, np.dtype, _reconstruct, scalar,
            (_history_buffer_getattr, 'builtins.getattr'),
            *sorted(dtypes, key=lambda t: t.__name__)]


def load_checkpoint_file(filename: str, map_location='cpu'):
    """``torch.load`` a checkpoint with ``weights_only=True`` plus mmengine's types.

    Args:
        filename: local checkpoint path.
        map_location: as for :func:`torch.load`.

    Returns:
        the loaded object.

    Raises:
        pickle.UnpicklingError: the file holds other objects; the message says what and how
            to load a trusted file anyway.
    """
    if not _NEEDS_COMPAT:  # pragma: no cover - torch < 2.6 has no weights_only default
        return torch.load(filename, map_location=map_location)
    try:
        with torch.serialization.safe_globals(mmengine_safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise pickle.UnpicklingError(
            f'{filename}: the checkpoint holds objects beyond tensors and the types mmengine '
            f'checkpoints use, so it is not loaded (safe loading). torch says: {e}\n'
            'If you trust the file, convert it once with torch.load(path, '
            'weights_only=False) and save its state_dict.') from None


def load_from_local(filename, map_location):
    """Load a local checkpoint file (mmengine's loader, safe types only).

    Args:
        filename (str): local checkpoint path.
        map_location: as for :func:`torch.load`.

    Returns:
        dict: the checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return load_checkpoint_file(filename, map_location=map_location)


if _NEEDS_COMPAT:
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
