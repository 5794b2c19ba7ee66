# Copyright (c) lth_mm authors. All rights reserved.
"""Read a transfer source file into tensors (and masks, when the source is a ticket).

Formats: lth_mm tickets (masks plus optional values); mmengine checkpoints of lth_mm,
mmdet, mmpose and mmpretrain (``state_dict``); the official code's ImageNet tickets
(``state['state_dict']`` with ``module.`` keys); open_lth checkpoints (``model.`` keys) and
plain torchvision state dicts. Loading is safe (``weights_only``), through lth_mm's
mmengine-aware loader.
"""
import os
from dataclasses import dataclass
from typing import Dict, Optional

import torch

from .names import TransferError, strip_wrappers


@dataclass
class Source:
    """A read source.

    Args:
        path: the file.
        fmt: ``'lth_mm_ticket'`` | ``'checkpoint'`` (a dict with ``state_dict``) |
            ``'state_dict'`` (plain / torchvision / open_lth).
        tensors: name -> tensor, wrapper prefixes removed (empty for a mask-only ticket).
        masks: name -> bool mask for a ticket, else None.
    """
    path: str
    fmt: str
    tensors: Dict[str, torch.Tensor]
    masks: Optional[Dict[str, torch.Tensor]] = None


def _load(path: str):
    from ..engine.checkpoint_compat import load_checkpoint_file  # mmengine-aware safe load
    from ..engine.checkpoint_io import describe_file
    try:
        return load_checkpoint_file(path, map_location='cpu')
    except Exception as e:  # noqa: BLE001  (any unreadable file gets the same message)
        kind = describe_file(path, readable=False)  # e.g. a compact .lthc file
        first = (str(e).splitlines() or [''])[0][:160]
        raise TransferError(
            f'transfer source {path!r} cannot be read: ' +
            (f'it is {kind}' if kind else f'truncated or corrupt ({type(e).__name__}: {first})')
            + '. Give a checkpoint, a state dict or an lth_mm ticket.') from e


def read_source(path: str) -> Source:
    """Read a transfer source.

    Args:
        path: the source file.

    Returns:
        Source: its tensors (and masks for tickets).

    Raises:
        TransferError: missing, unreadable, or holding no tensors.
    """
    if not isinstance(path, str) or not os.path.isfile(path):
        raise TransferError(f'transfer source {path!r} does not exist; give the path of a '
                            'classifier/detector checkpoint, a state dict or an lth_mm ticket.')
    from ..pruning import load_ticket
    from ..pruning.ticket import TICKET_FORMAT
    obj = _load(path)
    if isinstance(obj, dict) and obj.get('format') == TICKET_FORMAT:
        ticket = load_ticket(path)
        masks = strip_wrappers(ticket.masks.as_bool())
        return Source(path, 'lth_mm_ticket', strip_wrappers(ticket.values or {}), masks)
    fmt = 'state_dict'
    if isinstance(obj, dict):
        for key in ('state_dict', 'model_state_dict', 'model'):
            if isinstance(obj.get(key), dict):
                obj, fmt = obj[key], 'checkpoint'
                break
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)} \
        if isinstance(obj, dict) else {}
    if not tensors:
        raise TransferError(f'transfer source {path!r} holds no tensors (expected a state '
                            "dict, a checkpoint with 'state_dict', or an lth_mm ticket).")
    return Source(path, fmt, strip_wrappers(tensors))
