# Copyright (c) lth_mm authors. All rights reserved.
"""Helpers shared by the command-line tools: check their files, read their config options,
build a model offline."""
import argparse
import copy
import os
import os.path as osp
import sys
from typing import Mapping, Optional, Sequence

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope


def check_tool_files(inputs: Mapping[str, Optional[str]], out: Optional[str] = None,
                     force: Optional[bool] = False) -> None:
    """Exit with one clear error, before any work, on a missing input or a file in the way.

    Args:
        inputs: what each path is (``'config'``, ``'checkpoint'``, ...) -> the path; None
            paths (optional arguments not given) are skipped.
        out: the file the tool will write; it must not exist unless ``force``.
        force: the user passed ``--force``; None: the tool has no ``--force`` (the message
            does not offer it).
    """
    for what, path in inputs.items():
        if path is not None and osp.isdir(path):
            sys.exit(f'error: {what} {path!r} is a directory; give a file.')
        if path is not None and not osp.isfile(path):
            sys.exit(f'error: {what} {path!r} does not exist; check the path.')
        if path is not None and not os.access(path, os.R_OK):
            sys.exit(f'error: {what} {path!r} is not readable; check its permissions.')
    if out is not None and osp.exists(out) and not force:
        sys.exit(f'error: {out!r} exists (nothing was overwritten); choose another --out'
                 + (' or pass --force.' if force is not None else '.'))
    if out is not None and inputs and osp.abspath(out) in {
            osp.abspath(p) for p in inputs.values() if p is not None}:
        sys.exit(f'error: --out {out!r} is one of the inputs; choose another --out.')
    out_dir = osp.dirname(osp.abspath(out)) if out is not None else None
    if out_dir is not None and osp.isdir(out_dir) and not os.access(out_dir, os.W_OK):
        sys.exit(f'error: cannot write {out!r}: {out_dir!r} is read-only; choose another '
                 '--out.')


def check_run_files(cfg: Config, load_from_is: str = 'load_from (the checkpoint to load)'
                    ) -> None:
    """Exit with one clear error, before the Runner is built, on a bad ``load_from`` or an
    unusable ``work_dir`` (tools/train.py and tools/test.py).

    ``load_from`` is checked cheaply (memory-mapped, see
    :func:`lth_mm.engine.checkpoint_io.check_checkpoint`); URLs are left to mmengine.

    Args:
        cfg: the complete config (``work_dir`` set).
        load_from_is: what ``load_from`` is to the user (tools/test.py: its checkpoint).
    """
    from ..engine.checkpoint_io import CheckpointError, check_checkpoint
    load_from = cfg.get('load_from')
    if isinstance(load_from, str) and '://' not in load_from:
        try:
            check_checkpoint(load_from, load_from_is)
        except CheckpointError as e:
            sys.exit(f'error: {e}')
    work_dir = cfg.get('work_dir')
    if work_dir:
        if osp.exists(work_dir) and not osp.isdir(work_dir):
            sys.exit(f'error: work_dir {work_dir!r} is a file; choose another --work-dir.')
        existing = osp.abspath(work_dir)
        while not osp.exists(existing):  # the directory the run would create it in
            existing = osp.dirname(existing)
        if not os.access(existing, os.W_OK | os.X_OK):
            sys.exit(f'error: work_dir {work_dir!r} is not writable ({existing!r} is '
                     'read-only); choose a writable --work-dir.')


def parse_cfg_options(tokens: Optional[Sequence[str]]) -> Optional[dict]:
    """``--cfg-options`` tokens (``key=value`` strings) as the dict mmengine's DictAction makes.

    The tools collect the raw tokens (so that their ``--help`` needs no mmengine import) and
    convert them here; repeated ``--cfg-options`` merge, later keys win, as with DictAction.

    Args:
        tokens: the ``key=value`` strings, or None when the option was not given.

    Returns:
        dict | None: key -> parsed value (numbers, booleans, lists, tuples), or None.
    """
    if not tokens:
        return None
    from mmengine.config import DictAction
    bad = [tok for tok in tokens if '=' not in tok]
    if bad:
        sys.exit(f'error: --cfg-options takes key=value pairs, got {bad}.')
    namespace = argparse.Namespace()
    DictAction(option_strings=['--cfg-options'], dest='cfg_options', nargs='+')(
        None, namespace, list(tokens))
    return namespace.cfg_options


def load_config(path: str, cfg_options: Optional[Sequence[str]] = None) -> Config:
    """Load a config and merge the ``--cfg-options`` tokens into it.

    Args:
        path: the config file.
        cfg_options: raw ``key=value`` tokens (see :func:`parse_cfg_options`).

    Returns:
        Config: the merged config.
    """
    cfg = Config.fromfile(path)
    options = parse_cfg_options(cfg_options)
    if options:
        cfg.merge_from_dict(options)
    return cfg


def export_local_rank(local_rank: int) -> None:
    """Set ``LOCAL_RANK`` from ``--local-rank`` unless the launcher set it already.

    ``torch.distributed.launch`` passes ``--local-rank`` (torch >= 2.0) or ``--local_rank``;
    torchrun passes neither and sets ``LOCAL_RANK`` itself, which mmengine reads.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)


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

    Raises:
        CheckpointError: the checkpoint is unreadable, not a checkpoint, or of another model.
    """
    from mmengine.registry import MODELS

    from ..engine.checkpoint_io import read_checkpoint
    ckpt = read_checkpoint(checkpoint) if checkpoint is not None else None  # before the build
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = copy.deepcopy(cfg.model)
    if not keep_init_cfg:
        model_cfg = strip_init_cfg(model_cfg)
    model = MODELS.build(model_cfg)
    if ckpt is not None:
        load_saved_weights(model, ckpt, checkpoint)
    return model.eval()


def load_saved_weights(model: nn.Module, ckpt: dict, path: str) -> None:
    """Load a checkpoint's weights as saved (EMA-averaged when the run had an EMAHook, as
    mmengine's ``load_checkpoint`` does) into ``model``, checked to fit it first.

    Args:
        model: the model.
        ckpt: the checkpoint, read by :func:`lth_mm.engine.checkpoint_io.read_checkpoint`.
        path: its file (for messages).

    Raises:
        CheckpointError: names or shapes that do not fit the model.
    """
    from ..engine.checkpoint_io import checkpoint_weights
    state, _ = checkpoint_weights(ckpt, path, model.state_dict(),
                                  'ema' if ckpt.get('ema_state_dict') is not None else 'raw')
    model.load_state_dict(state)
