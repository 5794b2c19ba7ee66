# ResNet-18 FPN for mmdet two-stage detectors (mmdet ships no R18 Mask R-CNN 1x config):
# depth 18 and the FPN's in_channels of ResNet-18's stages.
model = dict(
    backbone=dict(depth=18, init_cfg=dict(type='Pretrained',
                                          checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
