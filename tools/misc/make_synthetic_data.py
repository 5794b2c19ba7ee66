# Copyright (c) lth_mm authors. All rights reserved.
"""Generate the lth_mm synthetic shapes dataset (COCO json + images, VOC layout).

Usage::

    python tools/misc/make_synthetic_data.py --out data/lth_synthetic \
        [--num-train 200] [--num-val 50] [--img-size 192] [--seed 0] [--no-voc]

Datasets built from configs generate the same data on first use, so running this is
optional (e.g. to pre-generate on a shared file system, or to look at the images).
"""
import argparse
import json
import os.path as osp
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the lth_mm synthetic shapes dataset (COCO json with boxes, '
        'masks and keypoints, plus a Pascal VOC copy). An existing matching dataset is '
        'reused; a mismatching one is an error and is never overwritten. Parameters left '
        'out take lth_mm.datasets.synthetic.DEFAULT_SYNTHETIC (200 / 50 images of 192 px, '
        'seed 0).')
    parser.add_argument('--out', default='data/lth_synthetic',
                        help='output folder (default: data/lth_synthetic)')
    parser.add_argument('--num-train', type=int, help='training images')
    parser.add_argument('--num-val', type=int, help='validation images')
    parser.add_argument('--img-size', type=int, help='image side in pixels (>= 64)')
    parser.add_argument('--seed', type=int, help='generation seed')
    parser.add_argument('--no-voc', action='store_true', help='skip the VOC layout')
    return parser.parse_args(argv)


def main(argv=None):
    """Generate (or reuse) the dataset; returns a process exit code."""
    args = parse_args(argv)
    # Heavy (torch, mmengine): imported after parsing so that --help is instant.
    from lth_mm.datasets.synthetic import META_FILE, ensure_synthetic_dataset
    given = dict(num_train=args.num_train, num_val=args.num_val, img_size=args.img_size,
                 seed=args.seed)
    params = {k: v for k, v in given.items() if v is not None}
    try:
        root = ensure_synthetic_dataset(args.out, voc=not args.no_voc, **params)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    with open(osp.join(root, META_FILE), encoding='utf-8') as f:
        meta = json.load(f)
    print(f'synthetic dataset ready at {root}')
    for split, stats in meta['stats'].items():
        print(f"  {split}: {stats['images']} images, {stats['instances']} instances, "
              f"areas {stats['areas']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
