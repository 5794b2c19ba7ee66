# Copyright (c) lth_mm authors. All rights reserved.
"""One-shot magnitude pruning of a trained checkpoint into a ticket file.

This is what the paper's COCO code does per round: take the final weights of a training
run, keep the largest ``keep-ratio`` fraction of the prunable weights, write the mask.
Train the ticket with ``--cfg-options lottery.ticket=TICKET lottery.rewind_from=CKPT``.

    python tools/prune.py CONFIG CHECKPOINT --keep-ratio 0.2 --out ticket.pth \
        [--criterion lamp] [--min-density 0.01]

It prints the tensors the pruning left under 1% density (layer collapse), by name and size.
The work is done by :func:`lth_mm.apis.prune_checkpoint`.
"""
import argparse
import sys

# Only the standard library at module level, so that `--help` is instant.


def parse_args(argv=None):
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
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
    p.add_argument('--cfg-options', nargs='+', action='extend', metavar='KEY=VALUE',
                   help='config overrides')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from lth_mm.apis import prune_checkpoint
    return prune_checkpoint(**vars(args))


if __name__ == '__main__':
    sys.exit(main())
