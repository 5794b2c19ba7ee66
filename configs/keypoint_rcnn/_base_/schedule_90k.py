# The paper's keypoint solver (Detectron2 keypoint_rcnn 1x): batch 16 (8 GPUs x 2), 90k
# iterations, SGD momentum 0.9, weight decay 1e-4, LR 0.02 (R50; the R18 configs use
# 0.015), x0.1 at 60k and 80k, linear warm-up over 1000 iterations from 0.001 x LR.
max_iters = 90000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False,
         milestones=[60000, 80000], gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)
