# Quickstart: Keypoint R-CNN R18-FPN on the embedded synthetic shapes (4 classes, 5
# keypoints each: top, right, bottom, left, centre), a full lottery experiment on CPU:
# the dense model (round 0) and its magnitude ticket keeping 20% of the prunable weights
# (round 1, late reset), each evaluated with box AP and keypoint AP.
#
#   mim train lth_mm configs/keypoint_rcnn/keypoint-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py
#
# CPU-sized like the demo (configs/demo/, docs/demo.md): a narrow ResNet-18 (32 base
# channels), a 64-channel FPN, RPN and box head, 96 px images of the easier synthetic
# variant (the demo's data: one generated copy serves both), AdamW from scratch. The
# keypoint head keeps the paper's structure (3x3 convs + ReLU, deconv, bilinear x2 to
# 56x56, spatial softmax loss) with 4 convs of 64 channels instead of 8 of 512: the
# paper's head costs ~3.7 GMAC per RoI, which would dominate a CPU step.
_base_ = [
    './_base_/keypoint-rcnn_r18_fpn.py',
    '../_base_/schedules/synthetic_adamw_3e.py',  # AdamW 1e-3, clipping, runtime
    '../_base_/lottery_det.py',
]
num_classes = 4
num_keypoints = 5
width = 32  # ResNet-18 base channels (64 in the standard network)
neck_channels = 64
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    # From scratch (no ImageNet weights offline): train every stage, batch statistics.
    backbone=dict(base_channels=width, stem_channels=width, frozen_stages=-1,
                  norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[width, 2 * width, 4 * width, 8 * width],
              out_channels=neck_channels),
    rpn_head=dict(in_channels=neck_channels, feat_channels=neck_channels,
                  anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels, num_classes=num_classes,
                       fc_out_channels=256),
        keypoint_roi_extractor=dict(out_channels=neck_channels),
        keypoint_head=dict(in_channels=neck_channels, num_keypoints=num_keypoints,
                           num_convs=4, conv_out_channels=64)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=20)))

dataset_type = 'SyntheticKeypointDataset'
# The demo's data (configs/demo/): one generated copy serves both.
data_root = 'data/lth_synthetic_demo_96/'
synthetic = dict(num_train=400, num_val=50, img_size=96, seed=0,
                 max_shapes=3, background='solid', min_size_frac=0.2)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadKeypointAnnotations', with_bbox=True),
    # Generated at their final size: Resize only records the scale factor.
    dict(type='KeypointResize', scale_factor=1.0, keep_ratio=True),
    dict(type='KeypointRandomFlip', prob=0.5),
    dict(type='PackKeypointDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='KeypointResize', scale_factor=1.0, keep_ratio=True),
    dict(type='LoadKeypointAnnotations', with_bbox=True),
    dict(type='PackKeypointDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type, data_root=data_root, synthetic=synthetic,
        ann_file='annotations/instances_train.json', data_prefix=dict(img='images/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, synthetic=synthetic,
        ann_file='annotations/instances_val.json', data_prefix=dict(img='images/val/'),
        test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoKeypointMetric',
                     ann_file=data_root + 'annotations/instances_val.json',
                     metric=['bbox', 'keypoints'])
test_evaluator = val_evaluator

max_epochs = 7
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs - 1], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs, save_best='coco/keypoints_mAP'))
# Late resetting at half an epoch = iteration 50, the end of the warm-up (the paper resets
# past the warm-up: iteration 3535 of 90k).
lottery = dict(rounds=2, keep_ratio=0.2, rewind_epochs=0.5)
