# Mask R-CNN ResNet-18 FPN. mmdet ships no R18 Mask R-CNN config: its R50 model with
# depth 18, the FPN's in_channels of ResNet-18 and torchvision's ResNet-18 weights.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
model = dict(
    backbone=dict(depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
