# Quickstart, Pascal VOC layout: the lottery experiment of the VOC configs (lottery_voc.py:
# one-shot, keep 20%, late reset at 0.145 epochs) on the embedded synthetic shapes written
# as VOC XML, with mmdet's VOCDataset machinery and VOC07 11-point mAP. Dense Faster R-CNN
# R18-FPN (round 0) and its ticket (round 1), from scratch on CPU on the 128 px images of
# the detection quickstart (data/lth_synthetic_128/), 3 epochs of 100 iterations per
# round, about 6 minutes on 2 cores. (Without mmdet's RepeatDataset the rewind point is
# 14.5% of this small epoch: iteration 15.)
#
#   mim train lth_mm configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic-voc.py --gpus 0
#
# Other data: override `data_root` and `synthetic` of train_dataloader.dataset and
# val_dataloader.dataset alike (see faster-rcnn_r18_fpn_lth-keep20_synthetic.py; the VOC
# metric reads no json).
_base_ = [
    '../_base_/models/faster-rcnn_r18_fpn_synthetic.py',
    '../_base_/datasets/synthetic_voc.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/lottery_voc.py',
]

max_epochs = 3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
# The demo's recipe: AdamW learns faster from scratch than SGD in this budget.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs - 1], gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='pascal_voc/mAP', rule='greater'),
    logger=dict(type='LoggerHook', interval=20))
randomness = dict(seed=0)
auto_scale_lr = dict(enable=False, base_batch_size=2)
