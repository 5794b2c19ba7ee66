# Mask R-CNN R18-FPN sized for CPU runs on the embedded synthetic shapes (4 classes),
# trained from scratch: the model of `make demo` and of the CPU quickstarts
# (faster-rcnn_r18_fpn_synthetic.py is this model without its mask branch).
_base_ = './mask-rcnn_r18_fpn.py'
num_classes = 4
neck_channels = 128  # a 128-channel FPN and heads instead of 256 (1.7x faster)
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    # From scratch (no ImageNet weights offline): train every stage, batch statistics.
    backbone=dict(frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(out_channels=neck_channels),
    rpn_head=dict(in_channels=neck_channels, feat_channels=neck_channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=neck_channels),
        # 256-d box fcs instead of 1024 for 4 classes.
        bbox_head=dict(in_channels=neck_channels, num_classes=num_classes,
                       fc_out_channels=256),
        mask_roi_extractor=dict(out_channels=neck_channels),
        mask_head=dict(in_channels=neck_channels, conv_out_channels=neck_channels,
                       num_classes=num_classes)),
    # CPU-sized sampling: 64 RoIs per image instead of 512, fewer proposals.
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1000, max_per_img=300),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))
