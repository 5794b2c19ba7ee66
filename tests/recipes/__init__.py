# Copyright (c) lth_mm authors. All rights reserved.
"""Tiny, runnable versions of real OpenMMLab recipes, for tests of the lottery engine.

Each recipe is the config mmdet / mmpose / mmpretrain ship
(``mmengine.hub.get_config('mmdet::...')``) with its hooks, samplers, transforms, optimizer
and scheduler types kept, and its data, widths, depths, image sizes and schedule shrunk so
that it trains in seconds on a CPU::

    from recipes import recipe_cfg
    cfg = recipe_cfg('yolox', tmp_path / 'work', data_root=tmp_path / 'data')
    Runner.from_cfg(cfg).train()

=====================  =================================================================
name                   what it exercises
=====================  =================================================================
rtmdet                 CachedMosaic/CachedMixUp, PipelineSwitchHook, EMAHook
yolox                  MultiImageMixDataset, YOLOXModeSwitchHook (use_l1, skip keys),
                       SyncNormHook, EMAHook, BatchSyncRandomResize
dino                   DINO 4-scale R-50: deformable attention, denoising queries,
                       RandomChoice crops, clip_grad, lr_mult
cascade_iter           Cascade Mask R-CNN: IterBasedTrainLoop, InfiniteSampler,
                       AspectRatioBatchSampler
multisource            Faster R-CNN on a ConcatDataset through MultiSourceSampler
rtmpose                RTMPose-t: Albumentation, PipelineSwitchHook (no EMA: as shipped)
yoloxpose              YOLOX-Pose: YOLOXPoseModeSwitchHook replaces the train dataloader,
                       SyncNormHook, EMAHook
mmpretrain_resnet      ResNet-18 classifier, SGD + MultiStepLR
mmpretrain_vit         ViT classifier, AutoAugment, Mixup, AdamW + clip_grad
=====================  =================================================================

Data are lth_mm's synthetic shapes, generated on first use under ``data_root`` (by
default ``work_dir/data``; share one root between tests to generate them once: one
sub-folder per parameter set, see ``common.py``). Nothing loads pretrained weights.
"""
import os
import os.path as osp

# albumentations (imported by mmpose) asks PyPI for a newer version at import time.
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from . import cls, det, pose  # noqa: E402
from .common import RecipeProbeHook  # noqa: F401,E402  (registered for custom_hooks)

RECIPES = {
    'rtmdet': det.rtmdet,
    'yolox': det.yolox,
    'dino': det.dino,
    'cascade_iter': det.cascade_iter,
    'multisource': det.multisource,
    'rtmpose': pose.rtmpose,
    'yoloxpose': pose.yoloxpose,
    'mmpretrain_resnet': cls.mmpretrain_resnet,
    'mmpretrain_vit': cls.mmpretrain_vit,
}

__all__ = ['RECIPES', 'RecipeProbeHook', 'recipe_cfg']


def recipe_cfg(name, work_dir, data_root=None, **overrides):
    """A complete, tiny training config of a real recipe.

    Args:
        name (str): one of :data:`RECIPES`.
        work_dir (str | Path): the run's ``work_dir``.
        data_root (str | Path, optional): where the synthetic data are generated (or
            found); defaults to ``work_dir/data``.
        **overrides: applied last with ``Config.merge_from_dict``, so dotted keys work,
            e.g. ``**{'train_cfg.max_epochs': 4, 'randomness.seed': None}``.

    Returns:
        mmengine.Config: ready for ``Runner.from_cfg``; ``cfg.filename`` is the shipped
        config it derives from (mmengine names runs after it).
    """
    if name not in RECIPES:
        raise KeyError(f'unknown recipe {name!r}; known: {sorted(RECIPES)}')
    data_root = osp.join(str(work_dir), 'data') if data_root is None else str(data_root)
    cfg = RECIPES[name](work_dir, data_root)
    if overrides:
        cfg.merge_from_dict(overrides)
    return cfg
