# Copyright (c) lth_mm authors. All rights reserved.
"""Evaluation metrics lth_mm adds to mmdet (registered into mmdet's ``METRICS``)."""
try:
    from .coco_keypoint_metric import CocoKeypointMetric  # noqa: F401
except ImportError:  # mmdet not installed
    __all__ = []
else:
    __all__ = ['CocoKeypointMetric']
