# Top-down heatmap ResNet-50 (SimpleBaseline), COCO keypoints, 256x192, 210 epochs: the
# paper's direct-pruning ticket, keeping 20% of the prunable weights, one-shot, late reset
# to 2 epochs (past mmpose's 500-iteration warm-up). From lottery_pose.py (rewind_epochs=2).
# (The paper's keypoint model is Keypoint R-CNN R50-FPN; see configs/README.md.)
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py',
    '../_base_/lottery_pose.py',
]
