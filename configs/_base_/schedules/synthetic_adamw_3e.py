# The CPU quickstarts' recipe (embedded synthetic shapes, from scratch), with mmdet's
# runtime: 3 epochs of AdamW (it learns faster from scratch than SGD in this budget:
# measured bbox mAP after the first epoch 0.005 vs 0.001), a 50-iteration warm-up, LR x0.1
# for the last epoch, the best checkpoint kept, seed 0. A config adds a model, data, a
# lottery base and `default_hooks.checkpoint.save_best` (its metric).
_base_ = ['mmdet::_base_/schedules/schedule_1x.py', 'mmdet::_base_/default_runtime.py']
max_epochs = 3
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
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
    checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1,
                    rule='greater'),
    logger=dict(type='LoggerHook', interval=20))
randomness = dict(seed=0)
auto_scale_lr = dict(enable=False, base_batch_size=2)
