# Copyright (c) lth_mm authors. All rights reserved.
"""Helpers shared by the command-line tools: build a model from a config, offline."""
import copy
from typing import Optional

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope


def strip_init_cfg(cfg):
    """Remove every ``init_cfg`` (pretrained weights cannot be downloaded everywhere).

    Args:
        cfg: a config dict/list (modified copy returned).

    Returns:
        the config without ``init_cfg`` keys.
    """
    if isinstance(cfg, dict):
        return type(cfg)({k: strip_init_cfg(v) for k, v in cfg.items() if k != 'init_cfg'})
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(strip_init_cfg(v) for v in cfg)
    return cfg


def build_model_from_cfg(cfg: Config, checkpoint: Optional[str] = None,
                         keep_init_cfg: bool = False) -> nn.Module:
    """Build the model of an mmdet/mmpose config on CPU, optionally loading a checkpoint.

    Args:
        cfg: the loaded config.
        checkpoint: checkpoint path loaded with ``strict=True``.
        keep_init_cfg: keep ``init_cfg`` entries (they only matter for ``init_weights``).

    Returns:
        nn.Module: the model in eval mode.
    """
    import lth_mm  # noqa: F401  (registers datasets/hooks for configs that need them)
    from mmengine.registry import MODELS
    from mmengine.runner import load_checkpoint
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = copy.deepcopy(cfg.model)
    if not keep_init_cfg:
        model_cfg = strip_init_cfg(model_cfg)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='silent')
    return model.eval()
