# The small-scale stand-in for an ImageNet ticket (docs/transfer.md, part 4): mmpretrain's
# ResNet-18, narrowed like the demo's detector backbone (32 base channels, so that its
# weights fit configs/demo/ and the transfer config beside this one), classifying 32 px
# crops of the synthetic shapes (4 classes; another image set than the detector's),
# one-shot lottery with the paper's ImageNet scope (every conv except the 1x1 shortcuts,
# the fc dense) keeping 20%, late reset at a quarter epoch. Round 0 is
# the dense "pretrained" classifier, round 1 the ticket (its final.pth: values and zeros).
# CPU: a couple of minutes.
#   mim train lth_mm configs/transfer/resnet18-w32_lth-keep20_synthetic-cls.py --gpus 0
_base_ = [
    'mmpretrain::_base_/models/resnet18.py', 'mmpretrain::_base_/default_runtime.py',
    '../_base_/lottery.py'
]
width = 32  # ResNet-18 base channels (64 in the standard network), as in configs/demo/
model = dict(backbone=dict(base_channels=width, stem_channels=width),
             head=dict(num_classes=4, in_channels=8 * width, topk=(1, )))
data_root = 'data/lth_synthetic_cls/'
synthetic = dict(num_train=300, num_val=60, img_size=128, seed=1, crop_size=32)
data_preprocessor = dict(num_classes=4, mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=32, num_workers=0,
    dataset=dict(type='SyntheticClsDataset', data_root=data_root, data_prefix='train',
                 synthetic=synthetic, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=64, num_workers=0,
    dataset=dict(type='SyntheticClsDataset', data_root=data_root, data_prefix='val',
                 synthetic=synthetic, pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader, test_evaluator = val_dataloader, val_evaluator
max_epochs = 8
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg, test_cfg = dict(), dict()
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=0.002, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs),
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=max_epochs,
                                     max_keep_ckpts=1),
                     logger=dict(type='LoggerHook', interval=10))
randomness = dict(seed=0)
lottery = dict(keep_ratio=0.2, prune_scope='backbone', rewind_epochs=0.25)
