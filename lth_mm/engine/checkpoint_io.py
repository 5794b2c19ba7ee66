# Copyright (c) lth_mm authors. All rights reserved.
"""Read mmengine checkpoints for the lottery engine: one reader, one set of messages.

* :func:`read_checkpoint`: a checkpoint file, safely loaded (mmengine's types only), with
  one clear error for a missing, truncated or foreign file;
* :func:`read_weights`: its weights as the model's ``state_dict`` names, raw or EMA,
  checked against the model.

mmengine's ``EMAHook`` swaps the averaged weights into ``state_dict`` when it saves and
keeps the raw ones in ``ema_state_dict`` (``module.``-prefixed), so the two are taken
explicitly: ``weights='raw'`` undoes the swap, ``'ema'`` keeps the average.
"""
import os.path as osp
from typing import Dict, Tuple, Type

import torch

from .checkpoint_compat import load_checkpoint_file


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
    if not osp.isfile(path):
        raise error(f'{what}: {path!r} does not exist.')
    try:
        ckpt = load_checkpoint_file(path)
    except Exception as e:  # noqa: BLE001  (any unpickling failure means a bad file)
        raise error(f'{what}: cannot read {path!r} ({type(e).__name__}: {e}); is '
                              'it truncated?') from e
    if not isinstance(ckpt, dict):
        raise error(f'{what}: {path!r} holds no checkpoint dict.')
    return ckpt


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
    ckpt = read_checkpoint(path, what, error)
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
