# Faster R-CNN R18-FPN on Pascal VOC 07+12 (mmdet's 1x VOC schedule: 4 epochs over the
# data repeated 3 times = 12 VOC epochs): the paper's VOC ticket, keeping 20% of the
# prunable weights, one-shot, late reset at the paper's iteration 600 of batch 12 (7,200
# images, rewind_epochs=0.145 of the repeated epoch). All from lottery_voc.py.
# mmdet ships no R18 VOC config: its R50 one with the ResNet-18 backbone and FPN inputs
# (as ../_base_/models/faster-rcnn_r18_fpn.py, which cannot be a second base here: mmdet's
# VOC config already defines `model`).
# The paper's VOC detector is the C4 Faster R-CNN of faster-rcnn.pytorch (no FPN, res5 on
# RoI features), so its network sparsities (78.94% for all modules) differ from ours.
_base_ = [
    'mmdet::pascal_voc/faster-rcnn_r50_fpn_1x_voc0712.py',
    '../_base_/lottery_voc.py',
]
model = dict(
    backbone=dict(depth=18,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    neck=dict(in_channels=[64, 128, 256, 512]))
