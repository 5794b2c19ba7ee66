# Copyright (c) lth_mm authors. All rights reserved.
"""Small mmengine-side helpers shared by the lottery hook and loops."""
import contextlib
import random
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import broadcast, get_world_size
from mmengine.model import is_model_wrapper


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside DDP/FSDP wrappers (parameter names without ``module.``)."""
    return model.module if is_model_wrapper(model) else model


def get_rng_state() -> dict:
    """Python, NumPy, torch CPU (and CUDA) random states, for exact resume."""
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Inverse of :func:`get_rng_state` (missing entries are left alone)."""
    if 'python' in state:
        random.setstate(state['python'])
    if 'numpy' in state:
        np.random.set_state(state['numpy'])
    if 'torch' in state:
        torch.set_rng_state(state['torch'].cpu())
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])


@contextlib.contextmanager
def preserved_rng():
    """Run a block (evaluation) without perturbing the training random streams.

    Creating a dataloader iterator draws from torch's global generator; evaluating between
    two epochs would otherwise change the data augmentation and sampling of the next ones,
    and a run resumed after that evaluation could not match an uninterrupted run.
    """
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def broadcast_masks(masks: Dict[str, torch.Tensor], src: int = 0) -> Dict[str, torch.Tensor]:
    """Make every rank hold rank ``src``'s masks (one collective for all tensors).

    Args:
        masks: boolean masks by name, same names/shapes on all ranks.
        src: source rank.

    Returns:
        dict[str, Tensor]: the source rank's masks (the input when not distributed).
    """
    if get_world_size() <= 1 or not masks:
        return masks
    names: List[str] = list(masks)
    flat = torch.cat([masks[n].flatten().to(torch.uint8) for n in names])
    broadcast(flat, src=src)
    out, i = {}, 0
    for n in names:
        m = masks[n]
        out[n] = flat[i:i + m.numel()].view(m.shape).bool()
        i += m.numel()
    return out
