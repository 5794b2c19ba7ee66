# Copyright (c) lth_mm authors. All rights reserved.
"""Keypoint R-CNN heatmap math: training targets, proposal selection and decoding.

Pure PyTorch (no mmengine / mmdet), so the encoding can be tested against hand-computed
indices. Coordinates are continuous image coordinates (a pixel ``i`` spans ``[i, i + 1)``),
the convention of Detectron2's Keypoint R-CNN, which this module follows where the paper
depends on it: the target rule (floor into a ``S x S`` grid over the box, a keypoint on
the right / bottom edge maps to ``S - 1``) and the decode (per-box bicubic resize of the
heatmap to the box size, arg-max, +0.5 pixel centre).
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def keypoint_heatmap_targets(keypoints: Tensor, rois: Tensor,
                             heatmap_size: int) -> Tuple[Tensor, Tensor]:
    """Encode keypoints as one flat heatmap index per (RoI, keypoint).

    Args:
        keypoints (Tensor): (N, K, 3) ``x, y, v`` in image coordinates (v > 0: labelled).
        rois (Tensor): (N, 4) boxes ``x1, y1, x2, y2`` the heatmaps cover.
        heatmap_size (int): side ``S`` of the square heatmap (56 in the paper).

    Returns:
        tuple[Tensor, Tensor]: ``labels`` (N, K) long, ``y_idx * S + x_idx`` (0 where
        invalid), and ``valid`` (N, K) bool: labelled and inside the box.
    """
    if keypoints.numel() == 0:
        shape = keypoints.shape[:2]
        return (keypoints.new_zeros(shape, dtype=torch.long),
                keypoints.new_zeros(shape, dtype=torch.bool))
    x1, y1, x2, y2 = (rois[:, i:i + 1] for i in range(4))
    x, y = keypoints[..., 0], keypoints[..., 1]
    # The grid cell of a point is floor((x - x1) * S / w); a point exactly on the far edge
    # would land in cell S, one past the grid, and is put in the last cell instead.
    x_idx = ((x - x1) * (heatmap_size / (x2 - x1).clamp(min=1e-6))).floor().long()
    y_idx = ((y - y1) * (heatmap_size / (y2 - y1).clamp(min=1e-6))).floor().long()
    x_idx[x == x2] = heatmap_size - 1
    y_idx[y == y2] = heatmap_size - 1
    inside = (x_idx >= 0) & (y_idx >= 0) & (x_idx < heatmap_size) & (y_idx < heatmap_size)
    valid = inside & (keypoints[..., 2] > 0)
    labels = (y_idx * heatmap_size + x_idx) * valid.long()
    return labels, valid


def visible_keypoints_in_boxes(keypoints: Tensor, boxes: Tensor) -> Tensor:
    """Which boxes contain at least one labelled keypoint of their matched instance.

    Keypoint R-CNN trains its keypoint branch only on these foreground proposals.

    Args:
        keypoints (Tensor): (N, K, 3) keypoints of the GT matched to each box.
        boxes (Tensor): (N, 4) proposals ``x1, y1, x2, y2``.

    Returns:
        Tensor: (N,) bool.
    """
    if keypoints.numel() == 0:
        return keypoints.new_zeros(keypoints.shape[0], dtype=torch.bool)
    x, y = keypoints[..., 0], keypoints[..., 1]
    inside = ((x >= boxes[:, 0:1]) & (x <= boxes[:, 2:3]) & (y >= boxes[:, 1:2])
              & (y <= boxes[:, 3:4]))
    return (inside & (keypoints[..., 2] > 0)).any(dim=1)


def heatmaps_to_keypoints(heatmaps: Tensor, rois: Tensor) -> Tuple[Tensor, Tensor]:
    """Decode keypoint heatmap logits into image coordinates and scores.

    Each box's heatmaps are resized (bicubic) to the box size rounded up, the arg-max cell
    of each keypoint is taken and its centre (+0.5) mapped back into the box; this keeps
    sub-cell precision for large boxes, as the reference does.

    Args:
        heatmaps (Tensor): (N, K, S, S) logits.
        rois (Tensor): (N, 4) boxes the heatmaps cover.

    Returns:
        tuple[Tensor, Tensor]: ``keypoints`` (N, K, 2) ``x, y`` and ``scores`` (N, K): the
        arg-max logit's softmax probability, normalised over the ``S x S`` heatmap so that
        scores of boxes of different sizes compare (as the reference).
    """
    num, num_kpts = heatmaps.shape[:2]
    coords = heatmaps.new_zeros((num, num_kpts, 2))
    scores = heatmaps.new_zeros((num, num_kpts))
    if num == 0:
        return coords, scores
    rois = rois.detach().float()
    heatmaps = heatmaps.detach().float()
    widths = (rois[:, 2] - rois[:, 0]).clamp(min=1)
    heights = (rois[:, 3] - rois[:, 1]).clamp(min=1)
    widths_ceil, heights_ceil = widths.ceil(), heights.ceil()
    for i in range(num):
        out_h, out_w = int(heights_ceil[i]), int(widths_ceil[i])
        roi_map = F.interpolate(heatmaps[i:i + 1], size=(out_h, out_w), mode='bicubic',
                                align_corners=False)[0]
        flat = roi_map.reshape(num_kpts, -1)
        max_logit, pos = flat.max(dim=1)
        # exp(max - logsumexp over the S x S heatmap): a probability-like score.
        scores[i] = (max_logit - heatmaps[i].reshape(num_kpts, -1).logsumexp(dim=1)).exp()
        x_int = pos % out_w
        y_int = torch.div(pos, out_w, rounding_mode='floor')
        # The resized map has ceil(w) cells over a box of width w: correct the cell size.
        coords[i, :, 0] = (x_int.float() + 0.5) * (widths[i] / widths_ceil[i]) + rois[i, 0]
        coords[i, :, 1] = (y_int.float() + 0.5) * (heights[i] / heights_ceil[i]) + rois[i, 1]
    return coords, scores
