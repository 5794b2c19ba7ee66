# Copyright (c) lth_mm authors. All rights reserved.
"""Synthetic shapes dataset: a pure numpy generator plus mmdet / mmpose dataset classes.

The generator is always available; the registered dataset classes are imported only when
their library is installed, so ``import lth_mm`` works with just one of mmdet / mmpose.
"""
from .synthetic import (DEFAULT_SYNTHETIC, FLIP_PAIRS, KEYPOINT_NAMES, SIGMAS, SKELETON,
                        SYNTHETIC_CLASSES, SYNTHETIC_PALETTE, ensure_synthetic_dataset,
                        generate_synthetic_dataset)

__all__ = [
    'DEFAULT_SYNTHETIC', 'FLIP_PAIRS', 'KEYPOINT_NAMES', 'SIGMAS', 'SKELETON',
    'SYNTHETIC_CLASSES', 'SYNTHETIC_PALETTE', 'ensure_synthetic_dataset',
    'generate_synthetic_dataset'
]

try:
    from .mmdet_datasets import SyntheticCocoDataset, SyntheticVOCDataset  # noqa: F401
except ImportError:  # mmdet (or mmcv) not installed: detection datasets unavailable
    pass
else:
    __all__ += ['SyntheticCocoDataset', 'SyntheticVOCDataset']

try:  # Keypoint R-CNN data: COCO keypoints through mmdet, keypoint-aware transforms
    from .coco_keypoints import CocoKeypointDataset, SyntheticKeypointDataset  # noqa: F401
    from . import transforms_kpt  # noqa: F401
except ImportError:  # mmdet not installed
    pass
else:
    __all__ += ['CocoKeypointDataset', 'SyntheticKeypointDataset']

from .synthetic import ensure_synthetic_cls_dataset  # noqa: F401,E402

try:  # the classification crops as an mmpretrain dataset
    from .mmpretrain_datasets import SyntheticClsDataset  # noqa: F401
except ImportError:  # mmpretrain not installed
    pass
else:
    __all__ += ['SyntheticClsDataset']

try:
    from .mmpose_datasets import SyntheticPoseDataset  # noqa: F401
except ImportError:  # mmpose not installed: the keypoint dataset is unavailable
    pass
else:
    __all__ += ['SyntheticPoseDataset']
