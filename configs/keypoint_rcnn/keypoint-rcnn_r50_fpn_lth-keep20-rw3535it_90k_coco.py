# Keypoint R-CNN R50-FPN, COCO person keypoints, the paper's 90k-iteration solver (batch
# 16, LR 0.02): the keep-20% ticket (the paper has no direct-pruning R50
# keypoint number), keeping 20% of the prunable weights (paper scope: the final
# deconv predictor `kpt_logits` stays dense), one-shot, late reset to iteration 3535 (past
# the 1000-iteration warm-up).
#   mim train lth_mm \
#       configs/keypoint_rcnn/keypoint-rcnn_r50_fpn_lth-keep20-rw3535it_90k_coco.py \
#       --gpus 8 --launcher pytorch
# The rewind point is in iterations at batch 16: with another total batch size, scale
# `lottery.rewind_iter` (3535 x 16 = 56,560 images).
_base_ = './keypoint-rcnn_r50_fpn_lth-dense_90k_coco.py'
lottery = dict(rounds=2, keep_ratio=0.2, rewind_iter=3535)
