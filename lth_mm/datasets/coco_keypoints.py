# Copyright (c) lth_mm authors. All rights reserved.
"""COCO person keypoints through mmdet, for Keypoint R-CNN.

:class:`CocoKeypointDataset` is mmdet's :class:`~mmdet.datasets.CocoDataset` (boxes, masks,
crowd handling, category mapping) whose instances also carry ``keypoints`` (K, 3):
``x, y`` in continuous image coordinates and the COCO visibility ``v``. Like the reference
(Detectron2), labelled COCO keypoints (integer pixel indices) are moved to the pixel centre
(+0.5, ``keypoint_offset`` in the metainfo) on loading, and the metric subtracts the same
offset when it writes COCO results. Training images whose instances have fewer than
``min_keypoints_per_image`` labelled keypoints are dropped (reference: 1).

:class:`SyntheticKeypointDataset` is the same over the embedded synthetic shapes (4
classes, 5 keypoints whose coordinates are already continuous: offset 0).

The metainfo carries what transforms and metric need: ``keypoint_names``,
``flip_indices`` (the keypoint each one becomes under a horizontal flip), ``sigmas`` (OKS)
and ``skeleton``; every data info repeats ``flip_indices`` for ``KeypointRandomFlip``.
"""
import copy
from typing import List

import numpy as np
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

from .synthetic import (FLIP_PAIRS, KEYPOINT_NAMES, SIGMAS, SKELETON, SYNTHETIC_CLASSES,
                        SYNTHETIC_PALETTE, prepare_synthetic_root)

__all__ = ['CocoKeypointDataset', 'SyntheticKeypointDataset', 'COCO_KEYPOINT_META',
           'flip_indices_from_pairs']

COCO_KEYPOINT_NAMES = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
# pycocotools' COCOeval defaults (Ronchi & Perona); set explicitly so that other keypoint
# sets (the synthetic one) are evaluated with their own.
COCO_SIGMAS = (.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107, .107,
               .087, .087, .089, .089)
COCO_FLIP_INDICES = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
COCO_SKELETON = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7),
                 (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5),
                 (4, 6), (5, 7))
COCO_KEYPOINT_META = dict(
    classes=('person', ), palette=[(220, 20, 60)], keypoint_names=COCO_KEYPOINT_NAMES,
    flip_indices=COCO_FLIP_INDICES, sigmas=COCO_SIGMAS, skeleton=COCO_SKELETON,
    keypoint_offset=0.5)


def flip_indices_from_pairs(num_keypoints: int, pairs) -> tuple:
    """``flip_indices`` (keypoint i becomes flip_indices[i]) from left/right pairs."""
    out = list(range(num_keypoints))
    for a, b in pairs:
        out[a], out[b] = b, a
    return tuple(out)


@DATASETS.register_module()
class CocoKeypointDataset(CocoDataset):
    """COCO boxes + keypoints (default: ``person``, 17 keypoints).

    Args:
        min_keypoints_per_image (int): training images (``test_mode=False``) whose
            non-crowd instances have fewer labelled keypoints (v > 0) in total are
            dropped; 0 keeps all. Reference: 1.
        **kwargs: :class:`mmdet.datasets.CocoDataset` arguments, e.g.
            ``ann_file='annotations/person_keypoints_train2017.json'``.
    """

    METAINFO = COCO_KEYPOINT_META

    def __init__(self, *args, min_keypoints_per_image: int = 1, **kwargs):
        if isinstance(min_keypoints_per_image, bool) or \
                not isinstance(min_keypoints_per_image, int) or min_keypoints_per_image < 0:
            raise ValueError('min_keypoints_per_image must be an int >= 0, got '
                             f'{min_keypoints_per_image!r}')
        self.min_keypoints_per_image = min_keypoints_per_image
        super().__init__(*args, **kwargs)

    @property
    def num_keypoints(self) -> int:
        return len(self.metainfo['keypoint_names'])

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """mmdet's parsing, plus ``keypoints`` (K, 3) float32 per instance.

        mmdet's rules decide which annotations become instances (it skips ignored,
        empty and out-of-category ones); each annotation is parsed on its own so that its
        keypoints stay with its box whatever those rules are.
        """
        anns = raw_data_info['raw_ann_info']
        data_info = super().parse_data_info(dict(raw_data_info, raw_ann_info=[]))
        offset = float(self.metainfo.get('keypoint_offset', 0.0))
        num_kpts = self.num_keypoints
        for ann in anns:
            parsed = super().parse_data_info(dict(raw_data_info, raw_ann_info=[ann]))
            if not parsed['instances']:
                continue
            instance = parsed['instances'][0]
            kpts = np.zeros((num_kpts, 3), dtype=np.float32)
            if ann.get('keypoints'):
                raw = np.asarray(ann['keypoints'], dtype=np.float32).reshape(-1, 3)
                if raw.shape[0] != num_kpts:
                    raise ValueError(
                        f"annotation {ann.get('id')} of image {data_info['img_id']} has "
                        f'{raw.shape[0]} keypoints but the dataset metainfo names '
                        f'{num_kpts}; set metainfo.keypoint_names (and flip_indices, '
                        'sigmas) for this keypoint set')
                kpts = raw.copy()
                labelled = kpts[:, 2] > 0
                kpts[labelled, :2] += offset
                kpts[~labelled] = 0  # unlabelled: (0, 0, 0), as in COCO
            instance['keypoints'] = kpts
            data_info['instances'].append(instance)
        data_info['flip_indices'] = list(self.metainfo['flip_indices'])
        data_info['num_keypoints'] = num_kpts
        return data_info

    def filter_data(self) -> List[dict]:
        """mmdet's filters, then drop training images without labelled keypoints."""
        data_list = super().filter_data()
        if self.test_mode or self.min_keypoints_per_image == 0:
            return data_list
        return [
            info for info in data_list
            if sum(int((inst['keypoints'][:, 2] > 0).sum()) for inst in info['instances']
                   if not inst['ignore_flag']) >= self.min_keypoints_per_image
        ]


_SYNTHETIC_META = dict(
    classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE, keypoint_names=KEYPOINT_NAMES,
    flip_indices=flip_indices_from_pairs(len(KEYPOINT_NAMES), FLIP_PAIRS),
    sigmas=tuple(SIGMAS), skeleton=tuple(tuple(s) for s in SKELETON),
    # The generator writes continuous coordinates (e.g. a square's corner), not pixel
    # indices: no half-pixel shift.
    keypoint_offset=0.0)


@DATASETS.register_module()
class SyntheticKeypointDataset(CocoKeypointDataset):
    """The synthetic shapes with their 5 keypoints, generated on first use.

    Args:
        synthetic (dict, optional): generation parameters (see
            :data:`~lth_mm.datasets.synthetic.DEFAULT_SYNTHETIC`).
        **kwargs: :class:`CocoKeypointDataset` arguments; ``data_root`` is required.
    """

    METAINFO = copy.deepcopy(_SYNTHETIC_META)

    def __init__(self, *args, synthetic=None, **kwargs):
        super().__init__(*args, **prepare_synthetic_root(kwargs, synthetic))
