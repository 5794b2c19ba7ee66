# Copyright (c) lth_mm authors. All rights reserved.
"""Let mmengine 0.10.x load its own checkpoints under torch >= 2.6.

torch 2.6 changed ``torch.load``'s default to ``weights_only=True``. mmengine 0.10.7's local
checkpoint loader calls ``torch.load(filename, map_location=...)`` and every checkpoint it
writes holds a ``message_hub`` with ``HistoryBuffer`` objects and NumPy values, so
``--resume`` fails with "Weights only load failed". We re-register mmengine's local-file
scheme (through its own ``CheckpointLoader`` registry, nothing is patched) with
``weights_only=False``: these are the user's own training checkpoints, which is what
mmengine assumed when it was written. Remote (http) loading is left to mmengine.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version

_NEEDS_COMPAT = digit_version(torch.__version__.split('+')[0]) >= digit_version('2.6.0')


def load_from_local(filename, map_location):
    """Load a local checkpoint file (mmengine's loader with ``weights_only=False``).

    Args:
        filename (str): local checkpoint path.
        map_location: as for :func:`torch.load`.

    Returns:
        dict: the checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


if _NEEDS_COMPAT:
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
