# Copyright (c) lth_mm authors. All rights reserved.
"""The keypoint head of Keypoint R-CNN: RoI features -> per-keypoint heatmap logits.

Architecture and loss as in the paper's Keypoint R-CNN (Detectron2's
``KRCNNConvDeconvUpsampleHead``, facts in ``docs/keypoint_rcnn.md``): 8 x (conv 3x3, 512,
ReLU), no norm; a stride-2 transposed conv to ``K`` channels (14 -> 28); bilinear x2
(28 -> 56). Loss: cross-entropy of the 56*56 spatial softmax of each keypoint, summed over
the valid keypoints of the batch and divided by their number.

The transposed conv is the final predictor and is named ``kpt_logits`` so that the
``paper`` pruning scope leaves it dense (``lth_mm.pruning.scope.PREDICTOR_PATTERNS``).
"""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures.bbox import get_box_tensor
from mmdet.utils import InstanceList
from mmengine.model import BaseModule
from torch import Tensor

from .keypoint_utils import (heatmaps_to_keypoints, keypoint_heatmap_targets,
                             visible_keypoints_in_boxes)


@MODELS.register_module()
class KeypointRCNNHead(BaseModule):
    """Conv stack + deconv + bilinear upsampling keypoint head.

    Args:
        num_keypoints (int): K, keypoints per instance (COCO: 17).
        in_channels (int): channels of the RoI features (FPN: 256).
        num_convs (int): 3x3 convs before the predictor (paper: 8).
        conv_out_channels (int): their width (paper: 512).
        up_scale (int): bilinear upsampling factor after the deconv (paper: 2; the
            heatmap side is ``2 * roi_feat_size * up_scale``, 56 for 14x14 RoIs).
        loss_weight (float): weight of the keypoint loss (paper: 1).
        init_cfg (dict | list[dict], optional): default: Kaiming normal (fan_out, ReLU),
            zero bias, for every conv and the deconv (the reference's init).
    """

    def __init__(self,
                 num_keypoints: int = 17,
                 in_channels: int = 256,
                 num_convs: int = 8,
                 conv_out_channels: int = 512,
                 up_scale: int = 2,
                 loss_weight: float = 1.0,
                 init_cfg: Optional[dict] = dict(
                     type='Kaiming', mode='fan_out', nonlinearity='relu',
                     distribution='normal', bias=0,
                     layer=['Conv2d', 'ConvTranspose2d'])):
        super().__init__(init_cfg=init_cfg)
        if num_keypoints < 1 or num_convs < 0 or up_scale < 1:
            raise ValueError('KeypointRCNNHead needs num_keypoints >= 1, num_convs >= 0 and '
                             f'up_scale >= 1, got {num_keypoints}, {num_convs}, {up_scale}')
        self.num_keypoints = num_keypoints
        self.up_scale = up_scale
        self.loss_weight = loss_weight
        self.convs = nn.ModuleList()
        channels = in_channels
        for _ in range(num_convs):
            self.convs.append(nn.Conv2d(channels, conv_out_channels, 3, padding=1))
            channels = conv_out_channels
        self.kpt_logits = nn.ConvTranspose2d(channels, num_keypoints, 4, stride=2,
                                             padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """RoI features (N, C, s, s) -> heatmap logits (N, K, 2*s*up, 2*s*up)."""
        for conv in self.convs:
            x = F.relu(conv(x))
        x = self.kpt_logits(x)
        if self.up_scale != 1:
            x = F.interpolate(x, scale_factor=self.up_scale, mode='bilinear',
                              align_corners=False)
        return x

    @staticmethod
    def select_training_rois(sampling_results, batch_gt_instances: InstanceList):
        """The positive proposals whose GT has a labelled keypoint inside the proposal.

        Args:
            sampling_results (list[SamplingResult]): the RoI sampler's output per image.
            batch_gt_instances (list[InstanceData]): GT with ``keypoints`` (M, K, 3).

        Returns:
            tuple[list[Tensor], list[Tensor]]: per image, the selected proposals (P, 4)
            and the keypoints (P, K, 3) of their matched GT.
        """
        boxes, keypoints = [], []
        for res, gt in zip(sampling_results, batch_gt_instances):
            if 'keypoints' not in gt:
                raise KeyError('Keypoint R-CNN needs gt_instances.keypoints: load them with '
                               'LoadKeypointAnnotations and pack them with '
                               'PackKeypointDetInputs in the training pipeline')
            priors = get_box_tensor(res.pos_priors)
            kpts = gt.keypoints.to(priors)[res.pos_assigned_gt_inds]
            keep = visible_keypoints_in_boxes(kpts, priors)
            boxes.append(priors[keep])
            keypoints.append(kpts[keep])
        return boxes, keypoints

    def loss(self, kpt_preds: Tensor, rois: Tensor, keypoints: Tensor) -> dict:
        """Spatial-softmax cross-entropy over the valid keypoints.

        Args:
            kpt_preds (Tensor): (N, K, S, S) logits of the selected RoIs.
            rois (Tensor): (N, 4) their boxes.
            keypoints (Tensor): (N, K, 3) their GT keypoints.

        Returns:
            dict: ``loss_keypoint``, and ``keypoint_valid`` (number of valid keypoints,
            not differentiated, logged for diagnosis).
        """
        size = kpt_preds.shape[-1]
        labels, valid = keypoint_heatmap_targets(keypoints, rois, size)
        labels, valid = labels.reshape(-1), valid.reshape(-1)
        num_valid = int(valid.sum())
        if num_valid == 0:
            # No valid keypoint in the batch: a zero loss that still touches every weight
            # (distributed training expects gradients for all parameters).
            loss = kpt_preds.sum() * 0 + sum(p.sum() * 0 for p in self.parameters())
        else:
            logits = kpt_preds.reshape(-1, size * size)[valid]
            loss = F.cross_entropy(logits, labels[valid], reduction='sum') / num_valid
        return dict(loss_keypoint=self.loss_weight * loss,
                    keypoint_valid=torch.tensor(float(num_valid), device=kpt_preds.device))

    def predict_by_feat(self, kpt_preds: Tensor, results_list: InstanceList,
                        batch_img_metas: List[dict], rescale: bool = False) -> InstanceList:
        """Add ``keypoints`` (N, K, 2) and ``keypoint_scores`` (N, K) to the detections.

        Args:
            kpt_preds (Tensor): heatmap logits of all images' detections, concatenated.
            results_list (list[InstanceData]): detections (``bboxes`` in the network's
                input coordinates, i.e. not rescaled).
            batch_img_metas (list[dict]): image metas (``scale_factor``).
            rescale (bool): map keypoints to the original image.

        Returns:
            list[InstanceData]: ``results_list`` with the keypoint fields.
        """
        counts = [len(res) for res in results_list]
        for res, preds, meta in zip(results_list, kpt_preds.split(counts, 0),
                                    batch_img_metas):
            coords, scores = heatmaps_to_keypoints(preds, get_box_tensor(res.bboxes))
            if rescale and coords.numel():
                scale = coords.new_tensor(meta['scale_factor'][:2])
                coords = coords / scale
            res.keypoints = coords
            res.keypoint_scores = scores
        return results_list
