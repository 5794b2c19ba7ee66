# Keypoint R-CNN ResNet-18 FPN: the R50 model with depth 18, ResNet-18's FPN input
# channels and torchvision's ResNet-18 weights (mmdet ships no R18 two-stage model).
_base_ = './keypoint-rcnn_r50_fpn.py'
model = dict(
    backbone=dict(depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
