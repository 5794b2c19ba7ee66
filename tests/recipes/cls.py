# Copyright (c) lth_mm authors. All rights reserved.
"""Tiny versions of mmpretrain recipes: ResNet-18 and ViT classifiers on synthetic crops.

The crops (32 px, 4 classes) are lth_mm's classification layout of the synthetic shapes
(lth_mm/datasets/synthetic/classification.py); ImageNet's 224 px pipelines become 32 px.
"""
from .common import CROPS, CROPS_DIR, data_dir, finalize, scale_sizes, shipped, shorten_schedule

NUM_CLASSES = 4
_FACTOR = 32 / 224  # RandomResizedCrop / CenterCrop 224 -> 32, ResizeEdge 256 -> 37


def _cls_data(cfg, data_root, batch_size):
    """Train/val loaders of ``cfg`` on the crops (the recipe's pipelines, scaled)."""
    for loader, split in ((cfg.train_dataloader, 'train'), (cfg.val_dataloader, 'val')):
        loader.dataset = dict(type='SyntheticClsDataset', data_root=data_dir(data_root, CROPS_DIR),
                              data_prefix=split, synthetic=dict(CROPS),
                              pipeline=scale_sizes(loader.dataset.pipeline, _FACTOR))
        loader.batch_size = batch_size
    cfg.val_evaluator = dict(type='Accuracy', topk=(1, ))  # top-5 of 4 classes is undefined
    # The Runner hands the top-level data_preprocessor to the model; Mixup/CutMix read
    # num_classes from it.
    cfg.data_preprocessor.num_classes = NUM_CLASSES


def mmpretrain_resnet(work_dir, data_root):
    """ResNet-18 (mmpretrain's 8xb32 ImageNet recipe): SGD with MultiStepLR, random
    resized crops; 8 base channels, 2 epochs with a step after the first."""
    cfg = shipped('mmpretrain::resnet/resnet18_8xb32_in1k.py')
    max_epochs = 2
    cfg.model.backbone.update(base_channels=8, stem_channels=8)
    cfg.model.head.update(num_classes=NUM_CLASSES, in_channels=64, topk=(1, ))
    # 25 train crops: batches of 5, none of 1 (BatchNorm cannot train on one 1x1 map).
    _cls_data(cfg, data_root, batch_size=5)
    schedulers = cfg.param_scheduler
    steps = schedulers if isinstance(schedulers, list) else [schedulers]
    (step, ) = [s for s in steps if s.type == 'MultiStepLR']
    step.milestones = [1]  # epochs 30, 60, 90 of 100
    return finalize(cfg, work_dir, by_epoch=True, length=max_epochs)


def mmpretrain_vit(work_dir, data_root):
    """ViT-B/16 (mmpretrain's 64xb64 recipe) shrunk to 2 layers of 32 dims on 8 px patches
    of 32 px crops: AutoAugment pipeline, Mixup batch augment, AdamW with gradient
    clipping, linear warm-up then cosine; 2 epochs."""
    cfg = shipped('mmpretrain::vision_transformer/vit-base-p16_64xb64_in1k.py')
    max_epochs, dims = 2, 32
    cfg.model.backbone.update(
        arch=dict(embed_dims=dims, num_layers=2, num_heads=2, feedforward_channels=2 * dims),
        img_size=32, patch_size=8)
    cfg.model.head.update(num_classes=NUM_CLASSES, in_channels=dims, hidden_dim=2 * dims)
    _cls_data(cfg, data_root, batch_size=5)
    # 30 warm-up epochs of 300, then cosine
    shorten_schedule(cfg, max_epochs, warmup_end=1, cosine_begin=1)
    return finalize(cfg, work_dir, by_epoch=True, length=max_epochs)
