# Copyright (c) lth_mm authors. All rights reserved.
"""mmpose dataset over the synthetic shapes keypoints, generated on first use."""
import os.path as osp

from mmpose.datasets import CocoDataset
from mmpose.registry import DATASETS

from .synthetic import prepare_synthetic_root

__all__ = ['SyntheticPoseDataset', 'SYNTHETIC_POSE_METAINFO']

# Absolute path: mmpose resolves a relative ``from_file`` against its own package.
SYNTHETIC_POSE_METAINFO = osp.join(osp.dirname(osp.abspath(__file__)), 'metainfo',
                                   'synthetic_shapes.py')


@DATASETS.register_module()
class SyntheticPoseDataset(CocoDataset):
    """Top-down / bottom-up keypoint dataset of the synthetic shapes (5 keypoints).

    Args:
        synthetic (dict, optional): generation parameters (``num_train``, ``num_val``,
            ``img_size``, ``seed``, ``voc``); defaults to DEFAULT_SYNTHETIC.
        **kwargs: :class:`mmpose.datasets.CocoDataset` arguments; ``data_root`` is
            required, with ``ann_file='annotations/instances_train.json'`` and
            ``data_prefix=dict(img='images/train/')``.
    """

    METAINFO = dict(from_file=SYNTHETIC_POSE_METAINFO)

    def __init__(self, *args, synthetic=None, **kwargs):
        super().__init__(*args, **prepare_synthetic_root(kwargs, synthetic))
