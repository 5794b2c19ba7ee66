# Copyright (c) lth_mm authors. All rights reserved.
"""Helpers shared by the command-line tools: check their files, build a model offline."""
import copy
import os.path as osp
import sys
from typing import Mapping, Optional

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope


def check_tool_files(inputs: Mapping[str, Optional[str]], out: Optional[str] = None,
                     force: bool = False) -> None:
    """Exit with one clear error, before any work, on a missing input or a file in the way.

    Args:
        inputs: what each path is (``'config'``, ``'checkpoint'``, ...) -> the path; None
            paths (optional arguments not given) are skipped.
        out: the file the tool will write; it must not exist unless ``force``.
        force: the user passed ``--force``.
    """
    for what, path in inputs.items():
        if path is not None and not osp.isfile(path):
            sys.exit(f'error: {what} {path!r} does not exist.')
    if out is not None and osp.exists(out) and not force:
        sys.exit(f'error: {out!r} exists; choose another --out or pass --force.')


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
