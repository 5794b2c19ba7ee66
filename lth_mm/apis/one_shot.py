# Copyright (c) lth_mm authors. All rights reserved.
"""What ``tools/prune.py`` does: one-shot magnitude pruning of a checkpoint into a ticket.

This is what the paper's COCO code does per round: take the final weights of a training
run, keep the largest ``keep_ratio`` fraction of the prunable weights, write the mask.
"""
import os.path as osp
import sys
from typing import Optional, Sequence

from .common import build_model_from_cfg, check_tool_files, load_config, load_saved_weights


def prune_checkpoint(config: str, checkpoint: str, keep_ratio: float, out: str,
                     criterion: Optional[str] = None, min_density: Optional[float] = None,
                     collapse_floor: float = 0.01, prune_scope: Optional[str] = None,
                     groups: Optional[Sequence[str]] = None,
                     include: Optional[Sequence[str]] = None,
                     exclude: Optional[Sequence[str]] = None, seed: int = 0,
                     force: bool = False,
                     cfg_options: Optional[Sequence[str]] = None) -> int:
    """Prune ``checkpoint`` once to ``keep_ratio``, write the ticket, print what it did.

    Every check runs before any work, and an existing ``out`` is never overwritten
    without ``force``; errors exit with a message.

    Args:
        config: the config the checkpoint was trained with.
        checkpoint: the trained checkpoint (its state_dict is pruned).
        keep_ratio: fraction of prunable weights kept, in (0, 1].
        out: the ticket file to write.
        criterion: a registered criterion (default: ``lottery.criterion`` of the config,
            else ``global_magnitude``).
        min_density: per-tensor density floor (default: ``lottery.min_density``).
        collapse_floor: report the tensors left under this density.
        prune_scope, groups, include, exclude: the prunable set (defaults: the config's
            ``lottery`` block, else the ``paper`` scope).
        seed: seed of the ``random`` criterion.
        force: overwrite ``out``.
        cfg_options: raw ``--cfg-options`` tokens.

    Returns:
        int: 0.
    """
    import torch

    from ..pruning import (LotteryConfigError, LotterySettings, MaskSet, collapsed_tensors,
                           compute_masks, count_parameters, format_collapse, is_structured,
                           model_structure, save_ticket, select_prunable, ticket_meta)
    from ..pruning.scope import predictor_info

    if not 0.0 < keep_ratio <= 1.0:
        sys.exit(f'error: --keep-ratio must be in (0, 1], got {keep_ratio} '
                 '(0.2 keeps 20% of the prunable weights = 80% sparsity).')
    check_tool_files(dict(config=config, checkpoint=checkpoint), out, force)
    from ..engine.checkpoint_io import CheckpointError, read_checkpoint
    try:  # read once, before any work: a truncated file or a ticket is one clear error
        ckpt = read_checkpoint(checkpoint)
    except CheckpointError as e:
        sys.exit(f'error: {e}')

    cfg = load_config(config, cfg_options)
    lottery = dict(cfg.get('lottery') or {})

    def given_or_config(value, key, default=None):
        return value if value is not None else lottery.get(key, default)

    try:
        settings = LotterySettings.from_dict(dict(
            prune_scope=prune_scope or lottery.get('prune_scope', 'paper'),
            groups=given_or_config(groups, 'groups'),
            include=given_or_config(include, 'include'),
            exclude=given_or_config(exclude, 'exclude'),
            criterion=criterion or lottery.get('criterion', 'global_magnitude'),
            min_density=given_or_config(min_density, 'min_density'),
            rounds=2, keep_ratio=keep_ratio, seed=seed))
    except LotteryConfigError as e:
        sys.exit(f'error: {e}')

    model = build_model_from_cfg(cfg)
    try:
        load_saved_weights(model, ckpt, checkpoint)
    except CheckpointError as e:
        sys.exit(f'error: {e}')
    names = select_prunable(model, **settings.scope_dict)
    params = dict(model.named_parameters())
    weights = {n: params[n].detach() for n in names}
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    try:
        structure = model_structure(model, names, settings.criterion) if is_structured(
            settings.criterion) else None  # channel criteria need the model's groups
        masks = MaskSet(compute_masks(settings.criterion, weights, ones, keep_ratio,
                                      torch.Generator().manual_seed(seed),
                                      min_density=settings.min_density,
                                      structure=structure))
    except ValueError as e:  # e.g. floors that need more than the keep ratio keeps
        sys.exit(f'error: {e}')
    total = count_parameters(model)
    save_ticket(out, masks, ticket_meta(
        masks, total, round=None, kind='one_shot', planned_keep_ratio=keep_ratio,
        scope=settings.scope_dict, criterion=settings.criterion,
        min_density=settings.min_density,
        rewind=dict(iter=None, mode=None, snapshot=None, rewind_from=None),
        source_checkpoint=osp.abspath(checkpoint), config=osp.abspath(config), seed=seed))
    print(f'{len(names)} prunable tensors ({masks.numel():,} of {total:,} parameters); kept '
          f'{masks.kept():,}: prunable sparsity {100 * masks.prunable_sparsity():.2f}%, '
          f'network sparsity {100 * masks.network_sparsity(total):.2f}%\n'
          f'ticket written to {out}')
    if settings.prune_scope in ('paper', 'backbone'):
        info = predictor_info(model)
        print(f'final predictors (by {info.method}, left dense): {len(info.names)} tensors')
    print(format_collapse(collapsed_tensors(masks.as_bool(), collapse_floor),
                          collapse_floor, limit=100))
    return 0
