# Copyright (c) lth_mm authors. All rights reserved.
"""Print the per-round table of a lottery experiment.

    python tools/analysis/print_summary.py WORK_DIR [--json]
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description='Per-round summary of a lottery experiment.')
    p.add_argument('work_dir', help='work_dir of the run (or its lottery_summary.json)')
    p.add_argument('--json', action='store_true', help='print the summary file as JSON')
    args = p.parse_args(argv)
    from lth_mm.report import format_summary_table, load_summary
    try:
        summary = load_summary(args.work_dir)
    except FileNotFoundError as e:
        sys.exit(f'error: {e}')
    if args.json:
        import json
        print(json.dumps(summary, indent=2))
        return 0
    print(format_summary_table(summary['rounds']))
    print(f'(from {args.work_dir}; per-round checkpoints and tickets in round_*/)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
