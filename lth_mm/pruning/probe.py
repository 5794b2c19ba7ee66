# Copyright (c) lth_mm authors. All rights reserved.
"""Dummy batches that make a model run its forwards, for :mod:`.predictors`.

The batch comes from the model itself: its ``data_preprocessor`` turns uint8 images and
data samples of its own codebase into the model's inputs (normalisation, padding, batch
shape), exactly as in training. Detectors (mmdet) get two 128x128 images (more for
DETR-like query counts) with two boxes each, instance masks where the model has a mask
branch and keypoints where it has a keypoint head, and run ``loss`` mode in training mode
with norm layers in eval mode (the RPN and every stage's and decoder layer's branches
produce a loss) and ``tensor`` mode in eval mode, with proposal and detection counts
capped (:func:`light_configs`); pose estimators (mmpose) run ``tensor`` mode at their
codec's input size (its outputs are what the losses read); classifiers (mmpretrain) run
``tensor`` mode. Other models get no dummy batch (the caller falls back to names).

mmengine and the model's codebase are imported here, lazily (``lth_mm.pruning`` stays
importable without them).
"""
import math
from contextlib import contextmanager
from typing import Callable, Dict, Tuple

import numpy as np
import torch
import torch.nn as nn

DET_SIZE = 128
# Caps on proposal / detection / sampling counts during the probe: the structure does not
# depend on them, the cost does (Cascade Mask R-CNN's tensor mode runs three mask heads on
# 1000 proposals an image: minutes on a CPU).
_LIMITS = {'nms_pre': 64, 'max_per_img': 16, 'nms_post': 16, 'max_num': 16, 'num': 32}


def _family(model: nn.Module) -> str:
    mods = [c.__module__ for c in type(model).__mro__]
    for fam in ('mmdet', 'mmpose', 'mmpretrain'):
        if any(m == fam or m.startswith(fam + '.') for m in mods):
            return fam
    return 'other'


def _images(n: int, h: int, w: int):
    g = torch.Generator().manual_seed(0)
    return [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
            for _ in range(n)]


def _num_keypoints(model: nn.Module):
    for m in model.modules():
        k = getattr(m, 'num_keypoints', None)
        if isinstance(k, int) and k > 0:
            return k
    return None


def _num_classes(model: nn.Module) -> int:
    for m in model.modules():
        k = getattr(m, 'num_classes', None)
        if isinstance(k, int) and k > 0:
            return k
    return 1


@contextmanager
def light_configs(model: nn.Module):
    """Temporarily cap the counts of :data:`_LIMITS` in every module's ``train_cfg`` /
    ``test_cfg`` and built samplers (``num``); everything is put back on exit."""
    changes = []

    def cap(obj, key, value):
        if isinstance(value, int) and not isinstance(value, bool) and value > _LIMITS[key]:
            changes.append((obj, key, value))
            if isinstance(obj, dict):
                obj[key] = _LIMITS[key]
            else:
                setattr(obj, key, _LIMITS[key])

    def walk(cfg, depth=0):
        if isinstance(cfg, dict) and depth < 6:
            for k, v in list(cfg.items()):
                if k in _LIMITS:
                    cap(cfg, k, v)
                walk(v, depth + 1)
        elif isinstance(cfg, (list, tuple)) and depth < 6:
            for v in cfg:
                walk(v, depth + 1)

    for m in model.modules():
        for attr in ('train_cfg', 'test_cfg'):
            walk(getattr(m, attr, None))
        samplers = getattr(m, 'bbox_sampler', None)
        for smp in samplers if isinstance(samplers, (list, tuple)) else [samplers]:
            if smp is not None and hasattr(smp, 'num'):
                cap(smp, 'num', smp.num)
    try:
        yield
    finally:
        for obj, key, value in reversed(changes):
            if isinstance(obj, dict):
                obj[key] = value
            else:
                setattr(obj, key, value)


def _det_size(model: nn.Module) -> int:
    """128 px, or enough stride-8 positions for a DETR-like model's queries (its encoder's
    top-k needs at least ``num_queries`` tokens)."""
    queries = max([getattr(m, 'num_queries', 0) or 0 for m in model.modules()] + [0])
    return max(DET_SIZE, 64 * math.ceil(8 * math.sqrt(queries) / 64))


def det_batch(model: nn.Module, size: int = None) -> dict:
    """Two images with ground truth for an mmdet detector, through its preprocessor.

    Returns:
        dict: ``inputs`` and ``data_samples`` as the model's ``forward`` takes them
        (instance masks only where a module is named or typed ``*mask*``).
    """
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    size = size or _det_size(model)
    from mmengine.structures import InstanceData
    boxes = torch.tensor([[8., 12., 70., 90.], [40., 30., 120., 110.]])
    labels = torch.tensor([0, min(1, _num_classes(model) - 1)])
    k = _num_keypoints(model)
    with_mask = any('mask' in n.rsplit('.', 1)[-1].lower() or 'mask' in type(m).__name__.lower()
                    for n, m in model.named_modules())
    samples = []
    for i in range(2):
        ds = DetDataSample(metainfo=dict(
            img_id=i, img_path='', ori_shape=(size, size), img_shape=(size, size),
            pad_shape=(size, size), batch_input_shape=(size, size), scale_factor=(1., 1.),
            flip=False, flip_direction=None))
        masks = np.zeros((2, size, size), dtype=np.uint8)
        for j, (x1, y1, x2, y2) in enumerate(boxes.int().tolist()):
            masks[j, y1:y2, x1:x2] = 1
        gt = InstanceData(bboxes=boxes.clone(), labels=labels.clone())
        if with_mask:  # only for mask heads: some assigners read masks when present
            gt.masks = BitmapMasks(masks, size, size)
        if k:
            # keypoints inside each box, all labelled (x, y, v=2)
            t = torch.linspace(0.2, 0.8, k)
            x = boxes[:, :1] + t * (boxes[:, 2:3] - boxes[:, :1])
            y = boxes[:, 1:2] + t.flip(0) * (boxes[:, 3:4] - boxes[:, 1:2])
            gt.keypoints = torch.stack([x, y, torch.full_like(x, 2.)], -1)
        ds.gt_instances = gt
        ds.ignored_instances = InstanceData(bboxes=torch.zeros(0, 4),
                                            labels=torch.zeros(0, dtype=torch.long))
        samples.append(ds)
    # training=False: no batch augments (YOLOX's random resize reads the training
    # iteration), which the structure does not need
    return model.data_preprocessor(dict(inputs=_images(2, size, size), data_samples=samples),
                                   False)


def _pose_size(model: nn.Module) -> Tuple[int, int]:
    """(h, w) of a pose model's input: its codec's ``input_size`` (w, h)."""
    head = getattr(model, 'head', None)
    codec = getattr(head, 'decoder', None)
    size = getattr(codec, 'input_size', None)
    if size is None:
        return 256, 192
    return int(size[1]), int(size[0])


def _tensor_batch(model: nn.Module, fam: str) -> dict:
    if fam == 'mmpose':
        from mmpose.structures import PoseDataSample
        h, w = _pose_size(model)
        samples = [PoseDataSample(metainfo=dict(img_shape=(h, w), input_size=(w, h),
                                                input_center=np.array([w / 2, h / 2]),
                                                input_scale=np.array([w, h])))
                   for _ in range(2)]
        return model.data_preprocessor(dict(inputs=_images(2, h, w), data_samples=samples),
                                       False)
    if fam == 'mmdet':
        return det_batch(model)
    size = getattr(getattr(model, 'backbone', None), 'img_size', None)
    size = tuple(size) if isinstance(size, (tuple, list)) else (size or 64, size or 64)
    data = model.data_preprocessor(dict(inputs=_images(2, *size)), False)
    return dict(inputs=data['inputs'], data_samples=data.get('data_samples'))


def probe_forwards(model: nn.Module) -> Tuple[Dict[str, Callable[[], object]], str]:
    """The forwards whose outputs define a model's outputs, ready to run.

    Args:
        model: an OpenMMLab ``BaseModel`` (with ``data_preprocessor``).

    Returns:
        tuple: ``({name: callable}, description)``; each callable sets the mode it needs
        (train for ``loss``, eval for ``tensor``); the caller restores the model's state.

    Raises:
        TypeError: not an mmdet / mmpose / mmpretrain model.
    """
    if not hasattr(model, 'data_preprocessor') or not callable(model.data_preprocessor):
        raise TypeError(f'{type(model).__name__} is no OpenMMLab BaseModel (no '
                        'data_preprocessor)')
    fam = _family(model)
    if fam == 'other':  # no dummy batch is known to fit: say so rather than guess
        raise TypeError(f'{type(model).__name__} is no mmdet, mmpose or mmpretrain model')
    forwards = {}
    if fam == 'mmdet':
        def loss():
            model.train()
            # Norm layers in eval mode: a SyncBatchNorm in train mode would wait for the
            # other ranks (one rank may probe alone), and the structure does not need
            # batch statistics.
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
            data = det_batch(model)
            with light_configs(model):
                return model(data['inputs'], data['data_samples'], mode='loss')
        forwards['loss'] = loss

    def tensor():
        model.eval()
        data = _tensor_batch(model, fam)
        with light_configs(model):
            return model(data['inputs'], data.get('data_samples'), mode='tensor')
    forwards['tensor'] = tensor
    return forwards, f'{fam} model {type(model).__name__}'
