# The demo (`make demo`): a full lottery experiment in the regime the paper is about, a
# dense model that has learnt its task. Round 0 trains a dense Mask R-CNN from scratch,
# round 1 its magnitude ticket at 80% sparsity of the prunable weights (late reset), round
# 2 the random-ticket control (same per-layer counts, random positions); each is trained
# with the same schedule and evaluated with COCO bbox + segm metrics.
#
# CPU-sized so that the three rounds fit in 10 minutes on 2 cores (see docs/demo.md for
# the measurements behind each choice):
#   * a narrow ResNet-18 (32 base channels instead of 64, i.e. 1/4 of the FLOPs), a
#     64-channel FPN and heads, 32 sampled RoIs: many more iterations per minute;
#   * 96 px images and anchors half mmdet's size (16-256 px) to match the shapes;
#   * the easier synthetic variant: <= 3 shapes on a plain background, none smaller than
#     1/5 of the image (still 4 classes, occlusion and masks to segment);
#   * AdamW at 5e-4 with a short warm-up and a step decay; seeded and deterministic.
#     (At 2e-3 the dense model stalled at bbox mAP 0.375 while both sparse rounds reached
#     0.73-0.79: a regime effect, not a lottery one. 1e-3 gave dense 0.668, 5e-4 0.708.)
#
#   mim train lth_mm configs/demo/mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py
_base_ = [
    '../_base_/models/mask-rcnn_r18_fpn.py',
    '../_base_/datasets/synthetic_instance.py',
    '../_base_/schedules/synthetic_adamw_3e.py',
    '../_base_/lottery_det.py',
]
num_classes = 4
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
        mask_roi_extractor=dict(out_channels=neck_channels),
        mask_head=dict(in_channels=neck_channels, conv_out_channels=neck_channels,
                       num_classes=num_classes)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=128)),
        rpn_proposal=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=20)))

data_root = 'data/lth_synthetic_demo_96/'
synthetic = dict(num_train=400, num_val=50, img_size=96, seed=0,
                 max_shapes=3, background='solid', min_size_frac=0.2)
train_dataloader = dict(batch_size=4,
                        dataset=dict(data_root=data_root, synthetic=synthetic))
val_dataloader = dict(dataset=dict(data_root=data_root, synthetic=synthetic))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

max_epochs = 7
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.0005))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs - 1], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs, save_best='coco/bbox_mAP'),
                     logger=dict(interval=25))
randomness = dict(seed=0, deterministic=True)

# Late resetting at 0.3 epoch = iteration 30 (400 images / batch 4 = 100 iterations an
# epoch), where the LR warm-up ends (LinearLR end=30), about the paper's fraction (1 of 12
# epochs): rewinding inside the warm-up costs AP (the runner warns below iteration 30).
lottery = dict(rewind_epochs=0.3, controls=['random_ticket'])

# The paper's analyses for `tools/analysis/report.py` (make demo ends with the report):
# per-round COCO results and per-category AP, validation loss every epoch (on 8 batches),
# and early-bird tracking of round 0's mask every 50 iterations after the warm-up.
custom_hooks = [
    dict(type='EvalArtifactsHook'),
    dict(type='ValLossHook', interval=1, max_batches=8),
    dict(type='EarlyBirdHook', interval=50, by_epoch=False, begin=50),
]
