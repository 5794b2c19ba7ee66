# Dense baseline of Top-down heatmap ResNet-50 on COCO keypoints: one round, nothing
# pruned. A plain mmpose training run (../_base_/lottery_dense.py), the reference for and
# the base of the tickets of this folder.
# (The paper's keypoint model is Keypoint R-CNN R50-FPN; see configs/README.md.)
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py',
    '../_base_/lottery_dense.py',
]
