# Copyright (c) lth_mm authors. All rights reserved.
"""Write the paper's analyses of one or more lottery work_dirs as one report.

    python tools/analysis/report.py WORK_DIR [WORK_DIR ...] --out DIR

writes DIR/report.md, DIR/report.html (pictures embedded) and a PNG and a PDF of each figure
the data support: sparsity_vs_metric, size, frequency, difficulty, tide_bbox, tide_segm,
keypoint_errors, convergence, early_bird, per_layer. DIR must be new, empty or an earlier
report (replaced whole); a DIR holding other files is refused. See docs/analyses.md.
"""
import argparse
import os.path as osp
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dirs', nargs='+', help='lottery work_dirs')
    parser.add_argument('--out', required=True, help='output directory of the report')
    parser.add_argument('--bins', type=int, default=4,
                        help='the most category bins of the frequency/difficulty analyses')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)  # before importing lth_mm: --help answers at once
    if args.bins < 1:
        print(f'error: --bins must be >= 1, got {args.bins}.', file=sys.stderr)
        return 2
    from lth_mm.analysis.report import build_report
    try:
        out = build_report(args.work_dirs, args.out, n_bins=args.bins)
    except FileNotFoundError as e:  # a work_dir without a summary: checked before any work
        print(f'error: {e} Give work_dirs of lottery runs with at least one finished round.',
              file=sys.stderr)
        return 2
    except FileExistsError as e:  # an --out with the user's own files: refused, untouched
        print(f'error: {e}', file=sys.stderr)
        return 2
    for f in out['figures']:
        print(f)
    print(f"report: {osp.abspath(out['markdown'])}")
    print(f"html:   {osp.abspath(out['html'])}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
