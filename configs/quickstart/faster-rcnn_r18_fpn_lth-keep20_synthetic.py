# Quickstart, detection: a full lottery experiment on the embedded synthetic shapes (no
# download, CPU): dense Faster R-CNN R18-FPN (round 0), then its magnitude ticket keeping
# 20% of the prunable weights (round 1, late reset to 1 epoch, lottery_det.py), trained
# from scratch at 192 px, 4 epochs per round, box mAP on the val split.
#
#   mim train lth_mm configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py --gpus 0
#   mim test lth_mm configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py --gpus 0 \
#       --checkpoint work_dirs/faster-rcnn_r18_fpn_lth-keep20_synthetic/round_1/final.pth
#
# Smaller data (the train and val datasets must get the same `synthetic` values, since
# they share one generated folder; the evaluator reads the val json of `data_root`):
#   --cfg-options train_dataloader.dataset.data_root=data/tiny/ \
#       val_dataloader.dataset.data_root=data/tiny/ \
#       val_evaluator.ann_file=data/tiny/annotations/instances_val.json \
#       train_dataloader.dataset.synthetic.num_train=8 \
#       val_dataloader.dataset.synthetic.num_train=8 ...   (num_val, img_size likewise)
# (`mim test` reads test_dataloader / test_evaluator instead of val_*.)
_base_ = [
    '../_base_/models/faster-rcnn_r18_fpn_synthetic.py',
    '../_base_/datasets/synthetic_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/lottery_det.py',
]

max_epochs = 4
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
         milestones=[max_epochs - 1], gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='coco/bbox_mAP', rule='greater'),
    logger=dict(type='LoggerHook', interval=20))
randomness = dict(seed=0)
auto_scale_lr = dict(enable=False, base_batch_size=2)
