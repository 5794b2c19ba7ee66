# Copyright (c) lth_mm authors. All rights reserved.
"""Build a ticket for a target config by transfer (the paper's Tables 1, 2, 4, 5).

    python tools/transfer.py SOURCE TARGET_CONFIG --mode imagenet --out ticket.pth
    python tools/transfer.py resnet18.pth TARGET_CONFIG --mode mask --keep-ratio 0.2 \
        [--threshold backbone] --out ticket.pth
    python tools/transfer.py mask_rcnn/round_1/ticket.pth TARGET_CONFIG --mode task --out t.pth

Then train it with ``--cfg-options lottery.ticket=ticket.pth`` (or put
``lottery.transfer=dict(mode=..., source=...)`` in the config: the same function runs at the
start of training) and inspect it with ``tools/analysis/ticket_info.py ticket.pth``.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Build a ticket for a target model by transfer.')
    p.add_argument('source', help='ticket, checkpoint (mmpretrain/mmdet/mmpose/lth_mm) or '
                   'state dict (torchvision, open_lth, official ImageNet ticket)')
    p.add_argument('config', help='the target config (its lottery block gives the scope)')
    p.add_argument('--mode', required=True, choices=['imagenet', 'mask', 'task'])
    p.add_argument('--keep-ratio', type=float, default=None,
                   help="mode 'mask' only: fraction of weights kept under the threshold")
    p.add_argument('--threshold', default='model', choices=['model', 'backbone'],
                   help="mode 'mask': threshold over the whole model (paper code) or over "
                   'the backbone only')
    p.add_argument('--seed', type=int, default=0,
                   help="seed of the target's initialisation (the 'model' threshold sees it)")
    p.add_argument('--out', required=True, help='ticket file to write')
    p.add_argument('--force', action='store_true', help='overwrite --out if it exists')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from lth_mm.apis import build_model_from_cfg, check_tool_files
    check_tool_files(dict(source=args.source, config=args.config), args.out, args.force)
    import torch
    from lth_mm.pruning import LotteryConfigError, LotterySettings, save_ticket, select_prunable
    from lth_mm.transfer import TransferError, build_transfer_ticket
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    lottery = {k: v for k, v in dict(cfg.get('lottery') or {}).items()
               if k not in ('ticket', 'transfer')}  # the tool's own source replaces them
    try:
        settings = LotterySettings.from_dict(lottery)
    except LotteryConfigError as e:
        sys.exit(f'error: {e}')
    torch.manual_seed(args.seed)
    model = build_model_from_cfg(cfg)
    model.init_weights()  # the target's own initialisation (init_cfg stripped: offline)
    names = select_prunable(model, **settings.scope_dict)
    try:
        ticket = build_transfer_ticket(model, names, args.mode, args.source, args.keep_ratio,
                                       args.threshold)
    except TransferError as e:
        sys.exit(f'error: {e}')
    ticket.meta['config'] = osp.abspath(args.config)
    save_ticket(args.out, ticket.masks, ticket.meta, values=ticket.values)
    m = ticket.meta
    print(f"{args.mode} transfer from {args.source} ({m['source_format']}, "
          f"{m['name_mapping']}): {m['matched_prunable']} of {len(names)} prunable tensors "
          f"from the source; prunable sparsity {100 * m['prunable_sparsity']:.2f}%, backbone "
          f"sparsity {100 * m['backbone_sparsity']:.2f}%, network sparsity "
          f"{100 * m['network_sparsity']:.2f}%"
          + (f'; carries {len(ticket.values)} start values' if ticket.values else '')
          + f'\nticket written to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
