# Top-down heatmap ResNet-18 (SimpleBaseline), COCO keypoints, 256x192, 210 epochs: the
# paper's direct-pruning ticket, keeping 20% of the prunable weights, one-shot, late reset
# to 2 epochs (past mmpose's 500-iteration warm-up). From lottery_pose.py (rewind_epochs=2).
# mmpose ships ResNet-50/101/152 top-down configs only: its ResNet-50 one with a
# ResNet-18 backbone (torchvision weights) and the head fed by its 512 channels.
# The paper's keypoint model is Keypoint R-CNN (R18-FPN + RPN + 8-conv keypoint head):
# same task and backbone, a different (smaller-head) architecture, so the network
# sparsity at keep 20% differs from the paper's 79.4% (see configs/README.md).
_base_ = [
    'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py',
    '../_base_/lottery_pose.py',
]
model = dict(
    backbone=dict(depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    head=dict(in_channels=512))
