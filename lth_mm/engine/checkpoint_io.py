# Copyright (c) lth_mm authors. All rights reserved.
"""Read mmengine checkpoints for the lottery engine: one reader, one set of messages.

* :func:`read_checkpoint`: a checkpoint file, safely loaded (mmengine's types only), with
  one clear error for a missing, truncated or foreign file;
* :func:`read_weights`: its weights as the model's ``state_dict`` names, raw or EMA,
  checked against the model;
* :func:`check_checkpoint`: the same errors, cheaply (memory-mapped, tensors not read),
  for entry points that hand the file to mmengine later (``tools/test.py``, ``load_from``);
* :func:`describe_file`: what a file that is not what a tool expected is, and which tool
  reads it (a ticket, a checkpoint with or without masks, a compact file, an export).

mmengine's ``EMAHook`` swaps the averaged weights into ``state_dict`` when it saves and
keeps the raw ones in ``ema_state_dict`` (``module.``-prefixed), so the two are taken
explicitly: ``weights='raw'`` undoes the swap, ``'ema'`` keeps the average.
"""
import os.path as osp
import zipfile
from typing import Dict, Optional, Tuple, Type

import torch

from .checkpoint_compat import load_checkpoint_file, mmengine_safe_globals

TICKET_HINT = ('a ticket holds masks only: pass it where a ticket goes '
               '(--ticket, lottery.ticket); the checkpoint is round_R/final.pth.')


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model."""


def read_checkpoint(path: str, what: str = 'checkpoint',
                    error: Type[Exception] = CheckpointError) -> dict:
    """Load a checkpoint file (CPU tensors, safe loading).

    Args:
        path: the file.
        what: what the file is to the user (for messages), e.g. ``'lottery.rewind_from'``.
        error: the exception class raised (a :class:`CheckpointError` subclass).

    Returns:
        dict: the checkpoint.

    Raises:
        CheckpointError: missing, unreadable or not a dict.
    """
    return _checked(_load(path, what, error, mmap=False), path, what, error)


def check_checkpoint(path: str, what: str = 'checkpoint',
                     error: Type[Exception] = CheckpointError) -> None:
    """:func:`read_checkpoint`'s checks without reading the tensors (memory-mapped load).

    For entry points that give the file to mmengine afterwards (``tools/test.py``,
    ``load_from``): a truncated zip misses its central directory, which sits at the end,
    so this catches it without loading a large file twice.

    Args:
        path: the file.
        what: what the file is to the user (for messages).
        error: the exception class raised.

    Raises:
        CheckpointError: missing, unreadable, a ticket, or not a dict.
    """
    _checked(_load(path, what, error, mmap=True), path, what, error)


def _load(path: str, what: str, error: Type[Exception], mmap: bool):
    if osp.isdir(path):
        raise error(f'{what}: {path!r} is a directory; give the checkpoint file in it '
                    '(e.g. round_R/final.pth or epoch_N.pth).')
    if not osp.isfile(path):
        raise error(f'{what}: {path!r} does not exist; check the path.')
    try:
        if mmap and zipfile.is_zipfile(path):  # torch's legacy (pre-1.6) format: no mmap
            with torch.serialization.safe_globals(mmengine_safe_globals()):
                return torch.load(path, map_location='cpu', weights_only=True, mmap=True)
        return load_checkpoint_file(path)
    except Exception as e:  # noqa: BLE001  (any unpickling failure means a bad file)
        kind = describe_file(path, readable=False)
        if kind:
            raise error(f'{what}: {path!r} is {kind}, not a checkpoint.') from e
        first = (str(e).splitlines() or [''])[0][:160]
        raise error(f'{what}: cannot read {path!r} ({type(e).__name__}: {first}): the file is '
                    'truncated or corrupt (e.g. copied while it was written); copy it '
                    'again or use another checkpoint.') from e


def _checked(ckpt, path: str, what: str, error: Type[Exception]) -> dict:
    if not isinstance(ckpt, dict):
        raise error(f'{what}: {path!r} holds no checkpoint dict; give an mmengine checkpoint.')
    if ckpt.get('format') == 'lth_mm.ticket':  # lth_mm.pruning.ticket.TICKET_FORMAT
        raise error(f'{what}: {path!r} is an lth_mm ticket, not a checkpoint; {TICKET_HINT}')
    return ckpt


def describe_file(path: str, readable: bool = True) -> Optional[str]:
    """What a file is, and which tool reads it, for messages about a wrong kind of file.

    Args:
        path: an existing file.
        readable: also try it as a (torch) checkpoint; False: only the cheap checks.

    Returns:
        str | None: e.g. ``"an mmengine checkpoint without lth_mm masks (read by
        tools/test.py and tools/prune.py)"``; None when the file is none of the known kinds
        (unreadable, truncated).
    """
    with open(path, 'rb') as f:
        head = f.read(1 << 16)
    if len(head) > 9 and head[8:9] == b'{' and b'lth_mm.compact' in head:
        return ('a compact lth_mm file (.lthc; read by `tools/compress.py FILE --decompress '
                '--out CKPT`)')
    if not readable:
        return None
    try:
        obj = load_checkpoint_file(path)
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(obj, dict):
        return None
    if obj.get('format') == 'lth_mm.ticket':
        return ('an lth_mm ticket (masks; read by tools/analysis/ticket_info.py, '
                '--ticket and lottery.ticket)')
    meta = obj.get('meta') if isinstance(obj.get('meta'), dict) else {}
    if 'lth_mm_export' in meta:
        return ('a model exported by tools/model_converters/export_ticket.py (test it with '
                'tools/test.py OUT_DIR/config.py OUT_DIR/model.pth)')
    if isinstance(obj.get('state_dict'), dict):
        masks = 'masks' in (obj.get('lth_mm') or {})  # engine.hooks.ticket_mask_hook.CKPT_KEY
        return ('an mmengine checkpoint ' + ('with lth_mm masks' if masks else
                'without lth_mm masks') + ' (read by tools/test.py, tools/prune.py'
                + (' and tools/model_converters/export_ticket.py' if masks else '') + ')')
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return 'a plain state dict (read by tools/prune.py, tools/transfer.py)'
    return None


def read_weights(path: str, model_state: Dict[str, torch.Tensor], weights: str = 'raw',
                 what: str = 'checkpoint', error: Type[Exception] = CheckpointError
                 ) -> Tuple[Dict[str, torch.Tensor], int]:
    """The weights and iteration of an mmengine checkpoint, checked against a model.

    Args:
        path: the checkpoint file.
        model_state: the model's ``state_dict()`` (names and shapes to check against).
        weights: ``'raw'`` or ``'ema'``.
        what: what the file is to the user (for messages).
        error: the exception class raised (a :class:`CheckpointError` subclass).

    Returns:
        tuple: (state_dict cloned to CPU, the checkpoint's ``meta.iter`` or 0).

    Raises:
        CheckpointError: unreadable, no state_dict, no EMA weights for ``'ema'``, or names
            and shapes that do not fit the model.
    """
    return checkpoint_weights(read_checkpoint(path, what, error), path, model_state, weights,
                              what, error)


def checkpoint_weights(ckpt: dict, path: str, model_state: Dict[str, torch.Tensor],
                       weights: str = 'raw', what: str = 'checkpoint',
                       error: Type[Exception] = CheckpointError
                       ) -> Tuple[Dict[str, torch.Tensor], int]:
    """:func:`read_weights` of a checkpoint already read (``path`` names it in messages)."""
    state = ckpt.get('state_dict', ckpt)
    if not isinstance(state, dict):
        raise error(f'{what}: {path!r} holds no state_dict.')
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    ema = ckpt.get('ema_state_dict')
    if weights == 'ema' and ema is None:
        raise error(f"{what}: lottery.rewind_weights='ema' but {path!r} has no "
                              "EMA weights (no EMAHook in that run); use "
                              "rewind_weights='raw'.")
    if weights == 'raw' and ema is not None:
        # EMAHook._swap_ema_state_dict put the average in state_dict and the raw weights
        # in ema_state_dict['module.<name>']: swap back.
        state = dict(state)
        for k, v in ema.items():
            if k.startswith('module.') and k[len('module.'):] in state:
                state[k[len('module.'):]] = v
    missing = [k for k in model_state if k not in state]
    extra = [k for k in state if k not in model_state]
    shapes = [k for k in model_state if k in state and state[k].shape != model_state[k].shape]
    if missing or extra or shapes:
        raise error(
            f'{what}: {path!r} does not fit the model: missing {missing[:5]}, unexpected '
            f'{extra[:5]}, shape mismatch {shapes[:5]}. Use a checkpoint of the same config.')
    it = int((ckpt.get('meta') or {}).get('iter', 0) or 0)
    return {k: v.detach().to('cpu', copy=True) for k, v in state.items()}, it


def read_ticket(path: str, what: str = 'ticket'):
    """:func:`lth_mm.pruning.load_ticket`, saying what the file is when it is no ticket.

    Args:
        path: the ticket file.
        what: what the file is to the user (for messages), e.g. ``'--ticket'``.

    Returns:
        Ticket: masks, meta and values.

    Raises:
        TicketError: missing, corrupt, or another kind of file (named, with the tool that
            reads it).
    """
    from ..pruning import TicketError, load_ticket
    try:
        return load_ticket(path)
    except TicketError as e:
        kind = describe_file(path) if osp.isfile(path) else None
        if kind is None or kind.startswith('an lth_mm ticket'):
            raise
        raise TicketError(
            f'{what}: {path!r} is {kind}, not an lth_mm ticket. A ticket is '
            'work_dir/round_R/ticket.pth, or make one from a checkpoint with `python '
            'tools/prune.py CONFIG CHECKPOINT --keep-ratio K --out TICKET`.') from e
