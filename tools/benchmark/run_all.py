# Copyright (c) lth_mm authors. All rights reserved.
"""The benchmark suite: every figure side by side with its reference, as a ratio.

    python tools/benchmark/run_all.py [--quick] [--threads N] [--json OUT]

Sections (each also a script of its own in this folder): enforcement overhead vs the plain
mmdet training step; global magnitude masks vs ``torch.nn.utils.prune``; compact ticket
size; resume cost; MACs dense vs sparse at keep 0.2 (see :mod:`lth_mm.benchmark.suite`).
Models use random weights (nothing is downloaded) pruned at keep 0.2 over the ``paper``
scope. Timings are interleaved and reported as min and median. ``--quick`` uses fewer
repeats and smaller MAC inputs.
"""
import argparse
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description='lth_mm benchmark suite (ratios side by side).')
    p.add_argument('--quick', action='store_true', help='fewer repeats, smaller MAC inputs')
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (1 is steadier on a shared CPU)')
    p.add_argument('--json', help='also write the raw figures here')
    args = p.parse_args(argv)
    from lth_mm.benchmark.common import run_and_print
    from lth_mm.benchmark.suite import run, table
    return run_and_print(lambda: run(args.quick), table, args.threads, args.json)


if __name__ == '__main__':
    sys.exit(main())
