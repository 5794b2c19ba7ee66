# The paper's VOC schedule (official faster-rcnn.pytorch code) with mmdet's runtime:
# SGD lr 0.01 at batch 12 (6 GPUs x 2 images, or scale with auto_scale_lr), 12 epochs of
# the doubled VOC2007 trainval of ../datasets/voc07.py (836 iterations each, 10,032 in
# all; the paper: 835 / 10,020), linear warm-up over the first 600 iterations, LR x0.1
# after epoch 10 (iteration 8,360; the paper's "sharp drop after 8k iterations" at 8,350).
# The late reset of ../lottery_voc.py is the end of this warm-up (iteration 600).
# Includes mmdet's default runtime: a config takes model + data + this + a lottery base.
_base_ = 'mmdet::_base_/default_runtime.py'
max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
warmup_iters = 600
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[10],
         gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
# --auto-scale-lr scales the LR from the paper's batch of 12 images.
auto_scale_lr = dict(enable=False, base_batch_size=12)
