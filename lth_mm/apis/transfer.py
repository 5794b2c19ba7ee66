# Copyright (c) lth_mm authors. All rights reserved.
"""What ``tools/transfer.py`` does: build a ticket for a target config by transfer.

The transfer itself (the paper's Tables 1, 2, 4, 5) is :mod:`lth_mm.transfer`'s; this
builds the target model offline, runs it, writes the ticket and says what it holds.
"""
import logging
import os.path as osp
import sys
from typing import Optional, Sequence

from .common import build_model_from_cfg, check_tool_files, load_config


def transfer_ticket(source: str, config: str, mode: str, out: str,
                    keep_ratio: Optional[float] = None, threshold: str = 'model',
                    seed: int = 0, force: bool = False, allow_partial: bool = False,
                    cfg_options: Optional[Sequence[str]] = None) -> int:
    """Build the transferred ticket of ``config``'s model from ``source`` and write it.

    mmengine logs the initialisation of every parameter (hundreds of lines) at INFO when
    the model is initialised; its logger is held at WARNING meanwhile, so the console
    shows only warnings and the result.

    Args:
        source: ticket, checkpoint or state dict to transfer from.
        config: the target config (its ``lottery`` block gives the scope).
        mode: ``'imagenet'``, ``'mask'`` or ``'task'``.
        out: the ticket file to write (refused if it exists, unless ``force``).
        keep_ratio: mode ``'mask'``: fraction of weights kept under the threshold.
        threshold: mode ``'mask'``: over the whole ``'model'`` or the ``'backbone'``.
        seed: seed of the target's initialisation.
        force: overwrite ``out``.
        allow_partial: mode ``'task'``: accept a source that covers under half of the
            target's prunable weights (the coverage is printed either way).
        cfg_options: raw ``--cfg-options`` tokens.

    Returns:
        int: 0.
    """
    check_tool_files(dict(source=source, config=config), out, force)
    import torch
    from mmengine.logging import MMLogger

    from ..pruning import LotteryConfigError, LotterySettings, save_ticket, select_prunable
    from ..transfer import TransferError, build_transfer_ticket
    cfg = load_config(config, cfg_options)
    lottery = {k: v for k, v in dict(cfg.get('lottery') or {}).items()
               if k not in ('ticket', 'transfer')}  # the tool's own source replaces them
    try:
        settings = LotterySettings.from_dict(lottery)
    except LotteryConfigError as e:
        sys.exit(f'error: {e}')
    torch.manual_seed(seed)
    model = build_model_from_cfg(cfg)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # for this call only: callers keep their logger
    try:
        model.init_weights()  # the target's own initialisation (init_cfg stripped: offline)
    finally:
        logger.setLevel(level)
    names = select_prunable(model, **settings.scope_dict)
    try:
        ticket = build_transfer_ticket(model, names, mode, source, keep_ratio, threshold,
                                       allow_partial=allow_partial)
    except TransferError as e:
        sys.exit(f'error: {e}')
    ticket.meta['config'] = osp.abspath(config)
    save_ticket(out, ticket.masks, ticket.meta, values=ticket.values)
    m = ticket.meta
    print(f"{mode} transfer from {source} ({m['source_format']}, "
          f"{m['name_mapping']}): {m['matched_prunable']} of {len(names)} prunable tensors "
          f"from the source, covering {100 * m['coverage']:.1f}% of the prunable weights"
          + (' (the backbone: heads stay dense by design)' if mode != 'task' else '')
          + f"; prunable sparsity {100 * m['prunable_sparsity']:.2f}%, backbone "
          f"sparsity {100 * m['backbone_sparsity']:.2f}%, network sparsity "
          f"{100 * m['network_sparsity']:.2f}%"
          + (f'; carries {len(ticket.values)} start values' if ticket.values else '')
          + f'\nticket written to {out}')
    return 0
