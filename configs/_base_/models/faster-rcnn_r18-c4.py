# Faster R-CNN ResNet-18 C4: the paper's VOC detector (faster-rcnn.pytorch's resnet18
# Faster R-CNN), on mmdet's C4 model (`faster-rcnn_r50-caffe-c4.py`): stem + res2-res4 as
# the backbone ("base", stride 16), an RPN on res4, and res5 run on 14x14 RoIAlign features
# as the RoI head ("top", `roi_head.shared_head`), then average pooling and the two
# predictors. The four modules of the paper's Table 3 map one to one:
#   base -> backbone.*, top -> roi_head.shared_head.*, RPN -> rpn_head.* (3x3 conv + its
#   1x1 predictors), box/cls head -> roi_head.bbox_head.* (fc_cls, fc_reg).
# Differences from the official code, kept to mmdet's defaults: pytorch-style ResNet with
# torchvision weights in RGB with ImageNet mean/std (the official code fed BGR with caffe
# means to torchvision weights, its bug 5), a sigmoid RPN (9 objectness outputs instead of
# 18 softmax ones), class-specific box regression for 20 classes (80 outputs, not 84).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py'
norm_cfg = dict(type='BN', requires_grad=False)
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(depth=18, style='pytorch',
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18')),
    # faster-rcnn.pytorch: 3 scales x 3 ratios, a 512-channel 3x3 RPN conv on res4 (256).
    rpn_head=dict(in_channels=256, feat_channels=512,
                  anchor_generator=dict(scales=[8, 16, 32])),
    roi_head=dict(
        shared_head=dict(depth=18, style='pytorch',
                         init_cfg=dict(type='Pretrained',
                                       checkpoint='torchvision://resnet18')),
        bbox_roi_extractor=dict(out_channels=256),
        bbox_head=dict(in_channels=512)))
