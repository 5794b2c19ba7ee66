# Copyright (c) lth_mm authors. All rights reserved.
"""The pruning scope of a config as a table (no checkpoint needed).

Every conv-like weight with its kind (conv, deconv, depthwise, grouped, linear, attention,
DCN, offset generator; "(predictor)" marks the final predictors found from the model's
structure), whether the scope prunes it and, if not, why; then the prunable fraction and
how the predictors were found (:func:`lth_mm.analysis.scope_info.config_scope_table`).

    python tools/analysis/scope_info.py CONFIG [--prune-scope paper] [--json]
        [--cfg-options lottery.prune_scope=all]
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description='The pruning scope of a config, weight by weight.')
    p.add_argument('config')
    p.add_argument('--prune-scope', default=None,
                   choices=['paper', 'paper_voc', 'backbone', 'all'],
                   help='default: lottery.prune_scope of the config, else paper')
    p.add_argument('--short', action='store_true', help='only the summary lines')
    p.add_argument('--json', action='store_true', help='print JSON')
    p.add_argument('--cfg-options', nargs='+', action='extend', metavar='KEY=VALUE',
                   help='config overrides')
    args = p.parse_args(argv)
    import json

    from lth_mm.analysis.scope_info import config_scope_table
    from lth_mm.pruning import LotteryConfigError, ScopeError
    from lth_mm.pruning.scope_table import format_scope_short, format_scope_table
    try:
        table = config_scope_table(args.config, args.prune_scope, args.cfg_options)
    except (LotteryConfigError, ScopeError) as e:
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
