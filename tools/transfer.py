# Copyright (c) lth_mm authors. All rights reserved.
"""Build a ticket for a target config by transfer (the paper's Tables 1, 2, 4, 5).

    python tools/transfer.py SOURCE TARGET_CONFIG --mode imagenet --out ticket.pth
    python tools/transfer.py resnet18.pth TARGET_CONFIG --mode mask --keep-ratio 0.2 \
        [--threshold backbone] --out ticket.pth
    python tools/transfer.py mask_rcnn/round_1/ticket.pth TARGET_CONFIG --mode task --out t.pth

Then train it with ``--cfg-options lottery.ticket=ticket.pth`` (or put
``lottery.transfer=dict(mode=..., source=...)`` in the config: the same function runs at the
start of training) and inspect it with ``tools/analysis/ticket_info.py ticket.pth``. The work is done by
:func:`lth_mm.apis.transfer_ticket`.
"""
import argparse
import sys

# Only the standard library at module level, so that `--help` is instant.


def parse_args(argv=None):
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
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
    p.add_argument('--allow-partial', action='store_true',
                   help="mode 'task': accept a source whose shared tensors cover under 50%% "
                   "of the target's prunable weights (the coverage is printed either way)")
    p.add_argument('--cfg-options', nargs='+', action='extend', metavar='KEY=VALUE',
                   help='config overrides')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from lth_mm.apis import transfer_ticket
    return transfer_ticket(**vars(args))


if __name__ == '__main__':
    sys.exit(main())
