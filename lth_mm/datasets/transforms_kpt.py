# Copyright (c) lth_mm authors. All rights reserved.
"""Data transforms that keep instance keypoints right for Keypoint R-CNN in mmdet.

mmdet's ``LoadAnnotations``, ``Resize``, ``RandomFlip`` and ``PackDetInputs`` ignore
keys they do not know, so each is subclassed here to also handle ``gt_keypoints``
(N, K, 3) float32 (``x, y`` continuous image coordinates, ``v`` COCO visibility), aligned
with ``gt_bboxes``:

* ``LoadKeypointAnnotations``: boxes/labels/masks as mmdet, plus ``gt_keypoints``.
* ``KeypointResize``: scales ``x, y`` by the image's scale (also usable as
  ``RandomChoiceResize(resize_type='KeypointResize')``).
* ``KeypointRandomFlip``: mirrors the coordinates and swaps left/right keypoints with
  ``flip_indices`` (COCO order from the dataset, or given).
* ``PackKeypointDetInputs``: packs ``gt_keypoints`` as ``gt_instances.keypoints``, with
  the same ignore-flag split as the boxes (crowd instances go to ``ignored_instances``).

Keypoints that leave the image (e.g. after a crop) are marked unlabelled (v = 0).
"""
from typing import Optional, Sequence

import numpy as np
from mmdet.datasets.transforms import LoadAnnotations, PackDetInputs, RandomFlip, Resize
from mmdet.registry import TRANSFORMS

__all__ = ['LoadKeypointAnnotations', 'KeypointResize', 'KeypointRandomFlip',
           'PackKeypointDetInputs']


def _invalidate_outside(keypoints: np.ndarray, img_shape) -> None:
    """Set v = 0 for keypoints outside ``[0, w] x [0, h]`` (in place)."""
    h, w = img_shape[:2]
    x, y = keypoints[..., 0], keypoints[..., 1]
    outside = (x < 0) | (y < 0) | (x > w) | (y > h)
    keypoints[outside] = 0


@TRANSFORMS.register_module()
class LoadKeypointAnnotations(LoadAnnotations):
    """mmdet's ``LoadAnnotations`` plus ``gt_keypoints`` from ``instances[i]['keypoints']``.

    Args:
        **kwargs: :class:`mmdet.datasets.transforms.LoadAnnotations` arguments.
    """

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        instances = results.get('instances', [])
        num_kpts = results.get('num_keypoints')
        if instances:
            kpts = np.stack([np.asarray(i['keypoints'], dtype=np.float32)
                             for i in instances])
        elif num_kpts is not None:
            kpts = np.zeros((0, num_kpts, 3), dtype=np.float32)
        else:  # inference on a bare image (mmdet.apis.inference_detector): no annotations
            return results
        results['gt_keypoints'] = kpts
        return results


@TRANSFORMS.register_module()
class KeypointResize(Resize):
    """mmdet's ``Resize``; keypoints are scaled with the image."""

    def transform(self, results: dict) -> dict:
        old_h, old_w = results['img'].shape[:2]
        results = super().transform(results)
        kpts = results.get('gt_keypoints')
        if kpts is not None and len(kpts):
            new_h, new_w = results['img'].shape[:2]
            kpts = kpts.copy()
            kpts[..., 0] *= new_w / old_w
            kpts[..., 1] *= new_h / old_h
            kpts[kpts[..., 2] <= 0] = 0  # unlabelled points stay (0, 0, 0)
            _invalidate_outside(kpts, results['img'].shape)
            results['gt_keypoints'] = kpts
        return results


@TRANSFORMS.register_module()
class KeypointRandomFlip(RandomFlip):
    """mmdet's ``RandomFlip``; keypoints are mirrored and left/right swapped.

    Args:
        flip_indices (Sequence[int], optional): keypoint ``i`` becomes ``flip_indices[i]``
            under a horizontal flip; default: the data info's ``flip_indices`` (set by
            ``CocoKeypointDataset`` from its metainfo).
        **kwargs: :class:`mmdet.datasets.transforms.RandomFlip` arguments.
    """

    def __init__(self, *args, flip_indices: Optional[Sequence[int]] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.flip_indices = None if flip_indices is None else list(flip_indices)

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        kpts = results.get('gt_keypoints')
        if kpts is None or not len(kpts):
            return
        h, w = results['img'].shape[:2]
        direction = results['flip_direction']
        kpts = kpts.copy()
        labelled = kpts[..., 2] > 0
        if direction in ('horizontal', 'diagonal'):
            kpts[..., 0] = np.where(labelled, w - kpts[..., 0], 0)
            order = self.flip_indices or results.get('flip_indices')
            if order is None:
                raise KeyError('KeypointRandomFlip needs flip_indices (argument or data '
                               'info) to swap left and right keypoints')
            if len(order) != kpts.shape[1]:
                raise ValueError(f'flip_indices has {len(order)} entries for '
                                 f'{kpts.shape[1]} keypoints')
            kpts = kpts[:, order]
        if direction in ('vertical', 'diagonal'):
            kpts[..., 1] = np.where(kpts[..., 2] > 0, h - kpts[..., 1], 0)
        results['gt_keypoints'] = kpts


@TRANSFORMS.register_module()
class PackKeypointDetInputs(PackDetInputs):
    """mmdet's ``PackDetInputs``; ``gt_keypoints`` -> ``gt_instances.keypoints``."""

    mapping_table = dict(PackDetInputs.mapping_table, gt_keypoints='keypoints')
