# Copyright (c) lth_mm authors. All rights reserved.
"""The tables of configs/README.md: every zoo config with the sparsity it really gives.

    python tools/analysis/zoo_table.py                       # the markdown tables
    python tools/analysis/zoo_table.py --check configs/README.md
    python tools/analysis/zoo_table.py --json
    python tools/analysis/zoo_table.py --metafiles    # rewrite configs/*/metafile.yml

``--check`` exits 1 when a zoo config is missing from the README, a README row names a
config that does not exist, or a row's target / network sparsity or paper anchor differs
from the computed one. The computation is :mod:`lth_mm.zoo`; the paper's anchors are in
``lth_mm/data/paper.json``.
"""
import argparse
import json
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Sparsity tables of the lth_mm config zoo.')
    p.add_argument('--check', metavar='README',
                   help='verify the tables of this README instead of printing them')
    p.add_argument('--json', action='store_true', help='print the rows as JSON')
    p.add_argument('--metafiles', action='store_true',
                   help='rewrite the Models of configs/*/metafile.yml from the configs')
    p.add_argument('configs', nargs='*', help='only these configs (default: the zoo)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)  # before the imports below: --help answers at once
    import logging

    from mmengine.logging import MMLogger

    from lth_mm.zoo import ModelCache, check_readme, render_tables, write_metafiles, zoo_rows
    # mmengine logs scope switches (mmdet <-> mmpose) to stdout: keep stdout the table.
    MMLogger.get_instance('mmengine').setLevel(logging.ERROR)
    cache = ModelCache()
    rows = zoo_rows(args.configs or None, cache)
    if args.check:
        errors = check_readme(args.check, rows)
        for e in errors:
            print(f'error: {e}', file=sys.stderr)
        if errors:
            print(f'{len(errors)} difference(s); regenerate the tables with '
                  f'`python tools/analysis/zoo_table.py`', file=sys.stderr)
            return 1
        print(f'{args.check}: {len(rows)} configs, sparsities as computed')
        return 0
    if args.metafiles:
        for path in write_metafiles(rows, cache):
            print(f'wrote {path}')
        return 0
    print(json.dumps(rows, indent=2) if args.json else render_tables(rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
