# Copyright (c) lth_mm authors. All rights reserved.
"""A small, deterministic, learnable synthetic dataset of coloured shapes.

One generated dataset serves detection, instance segmentation (COCO json, VOC xml) and
keypoint estimation (the same COCO json carries 5 keypoints per instance), so every lth_mm
config can run end to end without downloading anything; square crops of its objects are
the classification set of the transfer chain.

Modules (the registered dataset classes live beside this package, in
``mmdet_datasets.py``, ``mmpose_datasets.py``, ``coco_keypoints.py`` and
``mmpretrain_datasets.py``):

* :mod:`.params`: classes, keypoints, generation parameters, per-image random streams.
* :mod:`.shapes`, :mod:`.drawing`: rendering one image and its instances.
* :mod:`.polygons`: masks to exact COCO polygons / RLE.
* :mod:`.writers`: COCO json and Pascal VOC content.
* :mod:`.generate`: the detection set's layout; ``ensure_synthetic_dataset``.
* :mod:`.classification`: the crops' layout; ``ensure_synthetic_cls_dataset``.
* :mod:`.materialize`: generate a folder once, locked and atomically.

Design choices (why):

* The 4 classes (square, circle, triangle, cross) differ clearly in outline, which keeps
  them learnable in a few CPU minutes.
* Masks and polygons are exact (pixel centres inside the shape, outlines traced along
  pixel corners): ``annToMask`` reproduces the visible mask and ``area`` is its count.
* Each image is drawn from its own ``numpy.random.Generator`` seeded with
  ``(seed, split, index)``: the output is identical for the same parameters and the val
  split does not change when ``num_train`` does (tests/test_synthetic_hashes.py).

The command line is tools/misc/make_synthetic_data.py.
"""
from .classification import (DEFAULT_SYNTHETIC_CLS, ensure_synthetic_cls_dataset,
                             generate_synthetic_cls_dataset)
from .drawing import render_image
from .generate import (ensure_synthetic_dataset, generate_synthetic_dataset,
                       prepare_synthetic_root)
from .materialize import META_FILE, materialize_once
from .params import (DEFAULT_SYNTHETIC, FLIP_PAIRS, FORMAT_VERSION, KEYPOINT_NAMES, SIGMAS,
                     SKELETON, SPLITS, SYNTHETIC_CLASSES, SYNTHETIC_PALETTE,
                     VARIANT_DEFAULTS, image_rng, normalize_params)
from .polygons import encode_segmentation, mask_to_polygons
from .writers import coco_categories

__all__ = [
    'DEFAULT_SYNTHETIC', 'DEFAULT_SYNTHETIC_CLS', 'FLIP_PAIRS', 'FORMAT_VERSION',
    'KEYPOINT_NAMES', 'META_FILE', 'SIGMAS', 'SKELETON', 'SPLITS', 'SYNTHETIC_CLASSES',
    'SYNTHETIC_PALETTE', 'VARIANT_DEFAULTS', 'coco_categories', 'encode_segmentation',
    'ensure_synthetic_cls_dataset', 'ensure_synthetic_dataset',
    'generate_synthetic_cls_dataset', 'generate_synthetic_dataset', 'image_rng',
    'mask_to_polygons', 'materialize_once', 'normalize_params', 'prepare_synthetic_root',
    'render_image'
]
