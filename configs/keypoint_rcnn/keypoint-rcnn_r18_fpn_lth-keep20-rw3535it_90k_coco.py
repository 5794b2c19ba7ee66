# Keypoint R-CNN R18-FPN, COCO person keypoints, the paper's 90k-iteration solver (batch
# 16, LR 0.015): the paper's Table 4 ticket (79.4% network sparsity, keypoint AP
# 59.34 vs 58.59 dense), keeping 20% of the prunable weights (paper scope: the final
# deconv predictor `kpt_logits` stays dense), one-shot, late reset to iteration 3535 (past
# the 1000-iteration warm-up).
#   mim train lth_mm \
#       configs/keypoint_rcnn/keypoint-rcnn_r18_fpn_lth-keep20-rw3535it_90k_coco.py \
#       --gpus 8 --launcher pytorch
# The rewind point is in iterations at batch 16: with another total batch size, scale
# `lottery.rewind_iter` (3535 x 16 = 56,560 images).
_base_ = './keypoint-rcnn_r18_fpn_lth-dense_90k_coco.py'
lottery = dict(rounds=2, keep_ratio=0.2, rewind_iter=3535)
