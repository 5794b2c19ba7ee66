# Copyright (c) lth_mm authors. All rights reserved.
"""Small mmengine-side helpers shared by the lottery hook and loops."""
import contextlib
import copy
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
    """Python, NumPy, torch CPU and current-CUDA-device random states, for exact resume.

    Only the current device's CUDA state: a resume where the process sees another number
    of GPUs (torchrun with 8 visible, then Slurm binding 1 per task) must still load it.
    """
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
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
        cuda = state['cuda']
        if isinstance(cuda, (list, tuple)):  # older checkpoints: every visible device
            cuda = cuda[torch.cuda.current_device()] if len(cuda) > \
                torch.cuda.current_device() else cuda[0]
        torch.cuda.set_rng_state(cuda.cpu())


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


def fresh_init_state(model_cfg, seed: int) -> Dict[str, torch.Tensor]:
    """The state of a freshly built and initialised copy of a model, on CPU.

    "Fresh" means the model's own initialisation rules (``init_weights`` with every
    ``init_cfg`` that is not ``Pretrained``) under a seed of its own: pretrained weights
    (``init_cfg=dict(type='Pretrained')``, ``load_from``) are a learned initialisation and
    are left out, so the random re-initialisation control re-draws every weight. The
    training random streams are not touched.

    Args:
        model_cfg: the config's ``model`` dict.
        seed: seed of the new draw (the same on every rank, so ranks agree).

    Returns:
        dict[str, Tensor]: the new model's ``state_dict``.
    """
    from mmengine.registry import MODELS
    cfg = _drop_pretrained(copy.deepcopy(model_cfg))
    with preserved_rng():
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        model = MODELS.build(cfg)
        if hasattr(model, 'init_weights'):
            model.init_weights()
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _drop_pretrained(cfg):
    """Remove ``init_cfg`` entries of type ``Pretrained`` (anywhere in a config)."""
    if isinstance(cfg, dict):
        out = type(cfg)()
        for k, v in cfg.items():
            if k == 'init_cfg' and _is_pretrained(v):
                continue
            if k == 'init_cfg' and isinstance(v, (list, tuple)):
                v = type(v)(c for c in v if not _is_pretrained(c))
            out[k] = _drop_pretrained(v)
        return out
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_drop_pretrained(v) for v in cfg)
    return cfg


def _is_pretrained(init_cfg) -> bool:
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


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
