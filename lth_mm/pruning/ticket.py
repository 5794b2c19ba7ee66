# Copyright (c) lth_mm authors. All rights reserved.
"""The ticket file: masks plus the metadata needed to re-train them (pure PyTorch).

Layout (``torch.save`` of plain containers, loadable with ``weights_only=True``)::

    {'format': 'lth_mm.ticket', 'version': 1,
     'masks': MaskSet.state_dict(),           # bit-packed, 1 bit per prunable weight
     'meta': {'round', 'kind', 'keep_ratio', 'prunable_sparsity', 'network_sparsity',
              'network_params', 'scope', 'criterion', 'rewind', 'lth_mm_version', ...},
     'values': {state_dict key: tensor} or absent}  # start values a ticket carries
                                                      # (transferred tickets), else none
"""
import os
import pickle
import zipfile
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, Optional

import torch

from ..fileio import atomic_torch_save
from .masks import MaskSet

TICKET_FORMAT = 'lth_mm.ticket'
TICKET_VERSION = 1


class TicketError(ValueError):
    """A ticket file is unreadable or does not fit the model."""


@dataclass
class Ticket:
    """A loaded ticket.

    Args:
        masks: the masks (boolean CPU tensors).
        meta: metadata dict (see module docstring).
        values: optional start values (a partial ``state_dict``) the ticket carries, e.g.
            an ImageNet ticket's backbone weights; None when the ticket is a mask only.
    """
    masks: MaskSet
    meta: Dict[str, Any] = field(default_factory=dict)
    values: Optional[Dict[str, torch.Tensor]] = None


def save_ticket(path: str, masks: MaskSet, meta: Mapping[str, Any],
                values: Optional[Mapping[str, torch.Tensor]] = None) -> None:
    """Save a ticket atomically.

    Args:
        path: destination file.
        masks: the mask set.
        meta: metadata (plain Python values).
        values: optional start values (partial ``state_dict``) carried by the ticket.
    """
    from ..version import __version__
    meta = dict(meta)
    meta.setdefault('lth_mm_version', __version__)
    obj = dict(format=TICKET_FORMAT, version=TICKET_VERSION, masks=masks.state_dict(),
               meta=meta)
    if values is not None:
        obj['values'] = {k: v.detach().cpu().clone() for k, v in values.items()}
    atomic_torch_save(obj, path)


def ticket_meta(masks: MaskSet, network_params: int, **fields: Any) -> Dict[str, Any]:
    """The metadata of a ticket: the one place that defines its standard fields.

    Args:
        masks: the ticket's masks.
        network_params: all parameters of the model (for the network sparsity).
        **fields: what the caller knows besides (round, kind, scope, criterion, rewind,
            source checkpoint, ...).

    Returns:
        dict: ``keep_ratio`` (of the prunable weights, from the masks),
        ``prunable_sparsity``, ``network_sparsity``, ``network_params``,
        ``prunable_params`` and ``fields``.
    """
    meta = dict(keep_ratio=1 - masks.prunable_sparsity(),
                prunable_sparsity=masks.prunable_sparsity(),
                network_sparsity=masks.network_sparsity(network_params),
                network_params=int(network_params), prunable_params=masks.numel())
    meta.update(fields)
    return meta


def load_ticket(path: str) -> Ticket:
    """Load and validate a ticket file.

    Args:
        path: ticket file.

    Returns:
        Ticket: masks and metadata.

    Raises:
        TicketError: missing, truncated, corrupt or not a ticket.
    """
    hint = ('Use a ticket written by lth_mm (work_dir/round_*/ticket.pth) or create one with '
            '`python tools/prune.py CONFIG CHECKPOINT --keep-ratio K --out TICKET`.')
    if not os.path.isfile(path):
        raise TicketError(f'ticket file {path!r} does not exist. {hint}')
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError,
            ValueError) as e:
        raise TicketError(f'ticket file {path!r} is truncated or corrupt '
                          f'({type(e).__name__}: {e}). {hint}') from e
    if not isinstance(obj, dict) or obj.get('format') != TICKET_FORMAT:
        raise TicketError(f'{path!r} is not an lth_mm ticket (no format={TICKET_FORMAT!r} '
                          f'entry; a model checkpoint is not a ticket). {hint}')
    if obj.get('version', 0) > TICKET_VERSION:
        raise TicketError(f'{path!r} has ticket format version {obj.get("version")}, newer than '
                          f'this lth_mm understands ({TICKET_VERSION}); upgrade lth_mm.')
    try:
        masks = MaskSet.from_state_dict(obj['masks'])
    except (KeyError, ValueError, TypeError) as e:
        raise TicketError(f'ticket file {path!r} has corrupt masks ({e}). {hint}') from e
    values = obj.get('values')
    if values is not None and not (isinstance(values, dict) and all(
            isinstance(v, torch.Tensor) for v in values.values())):
        raise TicketError(f'ticket file {path!r} has corrupt values (expected a dict of '
                          f'tensors). {hint}')
    return Ticket(masks=masks, meta=dict(obj.get('meta', {})), values=values)


def check_fits(masks: MaskSet, params: Mapping[str, torch.Tensor],
               expected_names: Iterable[str] = None, source: str = 'ticket') -> None:
    """Check that masks fit a model: every name exists with the same shape.

    Args:
        masks: masks to check.
        params: the model's parameters by name.
        expected_names: the names the current scope selects; if given, the mask names must
            be exactly these (reports missing and extra names).
        source: what the masks came from, for the message.

    Raises:
        TicketError: with the offending names listed.
    """
    problems = []
    unknown = [n for n in masks.names() if n not in params]
    if unknown:
        problems.append(f'{len(unknown)} name(s) not in the model: {unknown[:5]}')
    if expected_names is not None:
        expected = list(expected_names)
        missing = [n for n in expected if n not in masks]
        extra = [n for n in masks.names() if n not in set(expected) and n in params]
        if missing:
            problems.append(f'{len(missing)} prunable weight(s) of the model have no mask: '
                            f'{missing[:5]}')
        if extra:
            problems.append(f'{len(extra)} mask(s) for weights outside the pruning scope: '
                            f'{extra[:5]}')
    shapes = [f'{n}: mask {tuple(masks[n].shape)} vs weight {tuple(params[n].shape)}'
              for n in masks.names() if n in params and masks[n].shape != params[n].shape]
    if shapes:
        problems.append(f'{len(shapes)} shape mismatch(es): {shapes[:5]}')
    if problems:
        raise TicketError(f'The {source} does not fit this model: ' + '; '.join(problems) +
                          '. Use a ticket made for the same architecture and the same '
                          'lottery.prune_scope/groups/include/exclude.')
