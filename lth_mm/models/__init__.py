# Copyright (c) lth_mm authors. All rights reserved.
"""Keypoint R-CNN for mmdet 3.x: the keypoint RoI head, the keypoint head and its math.

``keypoint_utils`` is pure PyTorch; the head classes register into mmdet's ``MODELS``.
"""
from .keypoint_utils import (heatmaps_to_keypoints, keypoint_heatmap_targets,
                             visible_keypoints_in_boxes)

from .channel_pruned import ChannelPrunedModel  # noqa: F401  (mmengine's MODELS only)

__all__ = ['heatmaps_to_keypoints', 'keypoint_heatmap_targets', 'visible_keypoints_in_boxes',
           'ChannelPrunedModel']

try:
    from .keypoint_head import KeypointRCNNHead  # noqa: F401
    from .keypoint_roi_head import KeypointRoIHead  # noqa: F401
except ImportError:  # mmdet not installed: only the pure math is available
    pass
else:
    __all__ += ['KeypointRCNNHead', 'KeypointRoIHead']
