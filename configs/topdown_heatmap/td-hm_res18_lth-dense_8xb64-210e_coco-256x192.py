# Dense baseline of Top-down heatmap ResNet-18 on COCO keypoints: one round, nothing
# pruned. A plain mmpose training run (../_base_/lottery_dense.py), the reference for and
# the base of the tickets of this folder.
# mmpose ships ResNet-50/101/152 top-down configs only: the ResNet-50 dense config with
# a ResNet-18 backbone (torchvision weights) and the head fed by its 512 channels.
# The paper's keypoint model is Keypoint R-CNN (R18-FPN + RPN + 8-conv keypoint head):
# same task and backbone, a different (smaller-head) architecture, so the network
# sparsity at keep 20% differs from the paper's 79.4% (see configs/README.md).
_base_ = './td-hm_res50_lth-dense_8xb64-210e_coco-256x192.py'
model = dict(
    backbone=dict(depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    head=dict(in_channels=512))
