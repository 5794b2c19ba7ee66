# Copyright (c) lth_mm authors. All rights reserved.
"""Generate the lth_mm synthetic shapes dataset (COCO json + images, VOC layout).

Usage::

    python tools/misc/make_synthetic_data.py --out data/lth_synthetic \
        [--num-train 200] [--num-val 50] [--img-size 192] [--seed 0] [--no-voc]

Equivalent to ``python -m lth_mm.datasets.synthetic``. Datasets built from configs
generate the same data on first use, so running this is optional (e.g. to pre-generate
on a shared file system, or to look at the images).
"""
import os.path as osp
import sys

# Run from a source checkout without installing lth_mm.
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from lth_mm.datasets.synthetic import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
