# Copyright (c) lth_mm authors. All rights reserved.
"""One-shot magnitude pruning of a trained checkpoint into a ticket file.

This is what the paper's COCO code does per round: take the final weights of a training
run, keep the largest ``keep-ratio`` fraction of the prunable weights, write the mask.
Train the ticket with ``--cfg-options lottery.ticket=TICKET lottery.rewind_from=CKPT``.

    python tools/prune.py CONFIG CHECKPOINT --keep-ratio 0.2 --out ticket.pth \
        [--criterion lamp] [--min-density 0.01]

It prints the tensors the pruning left under 1% density (layer collapse), by name and size.
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='One-shot pruning of a checkpoint to a ticket.')
    p.add_argument('config', help='the config the checkpoint was trained with')
    p.add_argument('checkpoint', help='trained checkpoint (its state_dict is pruned)')
    p.add_argument('--keep-ratio', type=float, required=True,
                   help='fraction of prunable weights kept, in (0, 1]; 0.2 = 80%% sparsity')
    p.add_argument('--criterion', default=None,
                   help='a registered criterion: global_magnitude, layerwise_magnitude, lamp, '
                   'random (default: lottery.criterion of the config, else global_magnitude)')
    p.add_argument('--min-density', type=float, default=None,
                   help='per-tensor density floor, at most --keep-ratio (default: '
                   'lottery.min_density of the config, else none)')
    p.add_argument('--collapse-floor', type=float, default=0.01,
                   help='report the tensors left under this density (default 0.01)')
    p.add_argument('--prune-scope', '--scope', dest='prune_scope', default=None,
                   choices=['paper', 'paper_voc', 'backbone', 'all'],
                   help='default: lottery.prune_scope of the config, else paper')
    p.add_argument('--groups', nargs='+', default=None, help='module groups to restrict to')
    p.add_argument('--include', nargs='+', default=None, help='regexes a name must match')
    p.add_argument('--exclude', nargs='+', default=None, help='regexes that drop a name')
    p.add_argument('--seed', type=int, default=0, help='seed for --criterion random')
    p.add_argument('--out', required=True, help='ticket file to write')
    p.add_argument('--force', action='store_true', help='overwrite --out if it exists')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from lth_mm.apis import build_model_from_cfg, check_tool_files
    from lth_mm.pruning import (LotteryConfigError, LotterySettings, MaskSet,
                                collapsed_tensors, compute_masks, count_parameters,
                                format_collapse, save_ticket, select_prunable, ticket_meta)
    from lth_mm.pruning.scope import predictor_info

    # Every check before any work, and never overwrite what the user has.
    if not 0.0 < args.keep_ratio <= 1.0:
        sys.exit(f'error: --keep-ratio must be in (0, 1], got {args.keep_ratio} '
                 '(0.2 keeps 20% of the prunable weights = 80% sparsity).')
    check_tool_files(dict(config=args.config, checkpoint=args.checkpoint), args.out,
                     args.force)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    lottery = dict(cfg.get('lottery') or {})
    try:
        settings = LotterySettings.from_dict(dict(
            prune_scope=args.prune_scope or lottery.get('prune_scope', 'paper'),
            groups=args.groups if args.groups is not None else lottery.get('groups'),
            include=args.include if args.include is not None else lottery.get('include'),
            exclude=args.exclude if args.exclude is not None else lottery.get('exclude'),
            criterion=args.criterion or lottery.get('criterion', 'global_magnitude'),
            min_density=args.min_density if args.min_density is not None else
            lottery.get('min_density'),
            rounds=2, keep_ratio=args.keep_ratio, seed=args.seed))
    except LotteryConfigError as e:
        sys.exit(f'error: {e}')

    model = build_model_from_cfg(cfg, args.checkpoint)
    names = select_prunable(model, **settings.scope_dict)
    params = dict(model.named_parameters())
    weights = {n: params[n].detach() for n in names}
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    try:
        masks = MaskSet(compute_masks(settings.criterion, weights, ones, args.keep_ratio,
                                      torch.Generator().manual_seed(args.seed),
                                      min_density=settings.min_density))
    except ValueError as e:  # e.g. floors that need more than the keep ratio keeps
        sys.exit(f'error: {e}')
    total = count_parameters(model)
    save_ticket(args.out, masks, ticket_meta(
        masks, total, round=None, kind='one_shot', planned_keep_ratio=args.keep_ratio,
        scope=settings.scope_dict, criterion=settings.criterion,
        min_density=settings.min_density,
        rewind=dict(iter=None, mode=None, snapshot=None, rewind_from=None),
        source_checkpoint=osp.abspath(args.checkpoint), config=osp.abspath(args.config),
        seed=args.seed))
    print(f'{len(names)} prunable tensors ({masks.numel():,} of {total:,} parameters); kept '
          f'{masks.kept():,}: prunable sparsity {100 * masks.prunable_sparsity():.2f}%, '
          f'network sparsity {100 * masks.network_sparsity(total):.2f}%\n'
          f'ticket written to {args.out}')
    if settings.prune_scope in ('paper', 'backbone'):
        info = predictor_info(model)
        print(f'final predictors (by {info.method}, left dense): {len(info.names)} tensors')
    print(format_collapse(collapsed_tensors(masks.as_bool(), args.collapse_floor),
                          args.collapse_floor, limit=100))
    return 0


if __name__ == '__main__':
    sys.exit(main())
