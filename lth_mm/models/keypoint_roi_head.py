# Copyright (c) lth_mm authors. All rights reserved.
"""Keypoint R-CNN's RoI head: mmdet's box (and optional mask) branches plus a keypoint one.

``KeypointRoIHead`` extends :class:`mmdet.models.roi_heads.StandardRoIHead` the way the
mask branch does: its own RoI extractor (RoIAlign 14x14 over the FPN levels chosen by box
scale), a :class:`~lth_mm.models.KeypointRCNNHead`, training on the sampled foreground
proposals whose matched person has a labelled keypoint inside the proposal, and inference
on the final detections. mmdet's ``StandardRoIHead.loss`` does not return its sampling
results, so ``loss`` here repeats its assign-and-sample step and then calls the parent's
``bbox_loss`` / ``mask_loss`` and the keypoint loss.
"""
from typing import Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi, get_box_tensor, scale_boxes
from mmdet.utils import ConfigType, InstanceList
from torch import Tensor


@MODELS.register_module()
class KeypointRoIHead(StandardRoIHead):
    """Box head (+ optional mask head) + keypoint head.

    Args:
        keypoint_roi_extractor (dict): RoI extractor of the keypoint branch (paper:
            ``SingleRoIExtractor`` with aligned RoIAlign, ``output_size=14``,
            ``sampling_ratio=0``).
        keypoint_head (dict): the keypoint head, e.g. ``KeypointRCNNHead``.
        **kwargs: :class:`~mmdet.models.roi_heads.StandardRoIHead` arguments.
    """

    def __init__(self, keypoint_roi_extractor: ConfigType, keypoint_head: ConfigType,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if keypoint_head is None or keypoint_roi_extractor is None:
            raise ValueError('KeypointRoIHead needs keypoint_roi_extractor and '
                             'keypoint_head; use StandardRoIHead for a model without '
                             'keypoints')
        self.keypoint_roi_extractor = MODELS.build(keypoint_roi_extractor)
        self.keypoint_head = MODELS.build(keypoint_head)

    @property
    def with_keypoint(self) -> bool:
        """bool: the head has a keypoint branch (always, for this class)."""
        return getattr(self, 'keypoint_head', None) is not None

    def _keypoint_forward(self, x: Tuple[Tensor], rois: Tensor) -> Tensor:
        feats = self.keypoint_roi_extractor(x[:self.keypoint_roi_extractor.num_inputs], rois)
        return self.keypoint_head(feats)

    def forward(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
                batch_data_samples: SampleList = None) -> tuple:
        """Tensor mode (FLOP counting, export): the parent's outputs plus the keypoint
        heatmaps of the first 100 proposals (as the parent does for masks)."""
        results = super().forward(x, rpn_results_list, batch_data_samples)
        rois = bbox2roi([get_box_tensor(res.bboxes) for res in rpn_results_list])
        return results + (self._keypoint_forward(x, rois[:100]), )

    def loss(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
             batch_data_samples: SampleList) -> dict:
        """Box, mask (if any) and keypoint losses of a batch (see the class docstring)."""
        assert len(rpn_results_list) == len(batch_data_samples)
        batch_gt_instances, batch_gt_instances_ignore, _ = unpack_gt_instances(
            batch_data_samples)
        sampling_results = []
        for i, rpn_results in enumerate(rpn_results_list):
            rpn_results.priors = rpn_results.pop('bboxes')
            assign_result = self.bbox_assigner.assign(rpn_results, batch_gt_instances[i],
                                                      batch_gt_instances_ignore[i])
            sampling_results.append(self.bbox_sampler.sample(
                assign_result, rpn_results, batch_gt_instances[i],
                feats=[lvl_feat[i][None] for lvl_feat in x]))

        losses = dict()
        bbox_results = self.bbox_loss(x, sampling_results)
        losses.update(bbox_results['loss_bbox'])
        if self.with_mask:
            mask_results = self.mask_loss(x, sampling_results, bbox_results['bbox_feats'],
                                          batch_gt_instances)
            losses.update(mask_results['loss_mask'])
        losses.update(self.keypoint_loss(x, sampling_results, batch_gt_instances))
        return losses

    def keypoint_loss(self, x: Tuple[Tensor], sampling_results: list,
                      batch_gt_instances: InstanceList) -> dict:
        """The keypoint loss on the selected foreground proposals.

        Returns:
            dict: ``loss_keypoint`` and ``keypoint_valid`` (see ``KeypointRCNNHead.loss``).
        """
        boxes, keypoints = self.keypoint_head.select_training_rois(sampling_results,
                                                                   batch_gt_instances)
        rois = bbox2roi(boxes)
        preds = self._keypoint_forward(x, rois)
        kpts = torch.cat(keypoints)
        return self.keypoint_head.loss(preds, rois[:, 1:], kpts)

    def predict(self, x: Tuple[Tensor], rpn_results_list: InstanceList,
                batch_data_samples: SampleList, rescale: bool = False) -> InstanceList:
        """Detections with ``keypoints`` (N, K, 2), ``keypoint_scores`` (N, K) (and
        ``masks`` with a mask head), in the original image when ``rescale``."""
        batch_img_metas = [s.metainfo for s in batch_data_samples]
        # Boxes stay in the network's coordinates until every branch has used them.
        results_list = self.predict_bbox(x, batch_img_metas, rpn_results_list,
                                         rcnn_test_cfg=self.test_cfg, rescale=False)
        rois = bbox2roi([get_box_tensor(res.bboxes) for res in results_list])
        preds = self._keypoint_forward(x, rois) if rois.shape[0] else \
            x[0].new_zeros((0, self.keypoint_head.num_keypoints, 1, 1))
        results_list = self.keypoint_head.predict_by_feat(preds, results_list,
                                                          batch_img_metas, rescale=rescale)
        if self.with_mask:  # rescales the boxes in place
            return self.predict_mask(x, batch_img_metas, results_list, rescale=rescale)
        if rescale:
            for res, meta in zip(results_list, batch_img_metas):
                if len(res):
                    res.bboxes = scale_boxes(res.bboxes,
                                             [1 / s for s in meta['scale_factor']])
        return results_list
