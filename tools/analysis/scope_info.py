# Copyright (c) lth_mm authors. All rights reserved.
"""The pruning scope of a config as a table (no checkpoint needed).

Every conv-like weight with its kind (conv, deconv, depthwise, grouped, linear, attention,
DCN, offset generator; "(predictor)" marks the final predictors found from the model's
structure), whether the scope prunes it and, if not, why; then the prunable fraction and
how the predictors were found.

    python tools/analysis/scope_info.py CONFIG [--prune-scope paper] [--json]
        [--cfg-options lottery.prune_scope=all]
"""
import argparse
import json
import sys

from mmengine.config import Config, DictAction


def main(argv=None):
    p = argparse.ArgumentParser(description='The pruning scope of a config, weight by weight.')
    p.add_argument('config')
    p.add_argument('--prune-scope', default=None,
                   choices=['paper', 'paper_voc', 'backbone', 'all'],
                   help='default: lottery.prune_scope of the config, else paper')
    p.add_argument('--short', action='store_true', help='only the summary lines')
    p.add_argument('--json', action='store_true', help='print JSON')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='config overrides')
    args = p.parse_args(argv)
    from lth_mm.apis import build_model_from_cfg
    from lth_mm.pruning import LotteryConfigError, LotterySettings, ScopeError
    from lth_mm.pruning.scope_table import (format_scope_short, format_scope_table,
                                            scope_table)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    lottery = dict(cfg.get('lottery') or {})
    if args.prune_scope:
        lottery['prune_scope'] = args.prune_scope
    try:
        settings = LotterySettings.from_dict(lottery)
    except LotteryConfigError as e:
        sys.exit(f'error: {e}')
    model = build_model_from_cfg(cfg)
    try:
        table = scope_table(model, **settings.scope_dict)
    except ScopeError as e:
        sys.exit(f'error: {e}')
    if args.json:
        print(json.dumps(table, indent=1))
    elif args.short:
        print('\n'.join(format_scope_short(table)))
    else:
        print(format_scope_table(table))
    return 0


if __name__ == '__main__':
    sys.exit(main())
