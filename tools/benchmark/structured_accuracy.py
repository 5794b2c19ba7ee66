# Copyright (c) lth_mm authors. All rights reserved.
"""Accuracy vs latency of dense, unstructured and structured tickets, from finished runs.

    python tools/benchmark/structured_accuracy.py WORK_DIR [WORK_DIR ...] --speed SPEED.json
        [--out docs/figures/structured_accuracy]

WORK_DIRs: lottery experiments of one task (seeds and criteria); SPEED.json: a
tools/benchmark/ticket_speed.py --json result of the same model. Prints the markdown table
and writes the figure (PNG and PDF). See lth_mm.benchmark.structured_accuracy.
"""
import argparse
import json
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description='Accuracy vs latency of tickets, table + figure.')
    p.add_argument('work_dirs', nargs='+', help='finished lottery experiments')
    p.add_argument('--speed', required=True, help='ticket_speed.py --json output')
    p.add_argument('--out', default='docs/figures/structured_accuracy',
                   help='figure path without extension')
    args = p.parse_args(argv)
    from lth_mm.benchmark.structured_accuracy import collect, figure, table
    with open(args.speed) as f:
        speed = json.load(f)
    variants = collect(args.work_dirs)
    print(table(variants, speed))
    for path in figure(variants, speed, args.out):
        print(f'figure: {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
