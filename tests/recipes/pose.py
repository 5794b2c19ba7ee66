# Copyright (c) lth_mm authors. All rights reserved.
"""Tiny versions of mmpose recipes: RTMPose-t (top-down) and YOLOX-Pose-s (bottom-up).

The synthetic shapes carry 5 keypoints each (top, right, bottom, left, center; see
lth_mm/datasets/metainfo/synthetic_shapes.py), so the heads predict 5 keypoints instead
of COCO's 17.
"""
from lth_mm.datasets.mmpose_datasets import SYNTHETIC_POSE_METAINFO
from .common import (SHAPES, SHAPES_DIR, data_dir, finalize, find_hook, scale_sizes, shipped,
                     shorten_schedule, switch_pipeline_for_last)

NUM_KEYPOINTS = 5


def _pose_dataset(dataset, data_root, split):
    """A recipe's mmpose CocoDataset dict moved onto the synthetic shapes (other keys,
    pipeline and data_mode included, are the recipe's); val uses ground-truth boxes."""
    keep = {k: v for k, v in dataset.items()
            if k not in ('type', 'data_root', 'ann_file', 'data_prefix', 'metainfo',
                         'bbox_file')}
    extra = dict(bbox_file=None) if split == 'val' else {}
    return dict(keep, type='SyntheticPoseDataset', data_root=data_dir(data_root, SHAPES_DIR),
                synthetic=dict(SHAPES), ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img=f'images/{split}/'), **extra)


def _pose_data(cfg, data_root, batch_size):
    cfg.train_dataloader.dataset = _pose_dataset(cfg.train_dataloader.dataset, data_root,
                                                 'train')
    cfg.train_dataloader.batch_size = batch_size
    cfg.val_dataloader.dataset = _pose_dataset(cfg.val_dataloader.dataset, data_root, 'val')
    cfg.val_dataloader.batch_size = 4
    cfg.val_evaluator.ann_file = data_dir(data_root, SHAPES_DIR) + 'annotations/instances_val.json'


def _rtmpose_pipeline(pipeline, codec):
    """RTMPose's pipeline at the tiny codec. RandomHalfBody's thresholds are COCO's (9
    visible keypoints, 3 on the lower body): with 5 keypoints, 1 of them on the lower half,
    it would never act, so it is given thresholds a shape can meet (upper halves only)."""
    out = []
    for t in pipeline:
        t = dict(t)
        if t['type'] == 'TopdownAffine':
            t['input_size'] = codec['input_size']
        elif t['type'] == 'GenerateTarget':
            t['encoder'] = codec
        elif t['type'] == 'RandomHalfBody':
            t.update(min_total_keypoints=4, min_upper_keypoints=2, min_lower_keypoints=2)
        out.append(t)
    return out


def rtmpose(work_dir, data_root):
    """RTMPose-t: CSPNeXt + RTMCC (GAU) head with SimCC labels, its Albumentation /
    YOLOXHSVRandomAug pipeline and mmdet's PipelineSwitchHook to stage 2 for the last
    epoch. No EMAHook: rtmpose-t ships with it commented out ("Turn off EMA while training
    the tiny model"). 64x64 inputs (the 1/32 feature map must stay whole), 3 epochs."""
    cfg = shipped(
        'mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py')
    max_epochs, stage2_epochs = 3, 1
    (w, h), (sx, sy) = cfg.codec.input_size, cfg.codec.sigma
    codec = dict(cfg.codec, input_size=(64, 64), sigma=(sx * 64 / w, sy * 64 / h))
    cfg.codec = codec
    model = cfg.model
    model.backbone.widen_factor = 0.125  # last stage: 128 channels
    model.head.update(in_channels=128, out_channels=NUM_KEYPOINTS,
                      input_size=codec['input_size'], in_featuremap_size=(2, 2),
                      decoder=codec)
    model.head.gau_cfg.update(hidden_dims=32, s=16)
    _pose_data(cfg, data_root, batch_size=16)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.pipeline = _rtmpose_pipeline(loader.dataset.pipeline, codec)
    shorten_schedule(cfg, max_epochs, warmup_end=2, cosine_begin=max_epochs // 2)
    switch_pipeline_for_last(cfg, max_epochs, stage2_epochs,
                             lambda pipeline: _rtmpose_pipeline(pipeline, codec))
    return finalize(cfg, work_dir, by_epoch=True, length=max_epochs)


def yoloxpose(work_dir, data_root):
    """YOLOX-Pose-s: Mosaic, BottomupRandomAffine, YOLOXMixUp, BatchSyncRandomResize,
    YOLOXPoseModeSwitchHook (builds a new train dataloader with the stage-2 pipeline and
    sets ``head.use_aux_loss``), SyncNormHook, EMAHook; 3 epochs, switch from epoch 1.

    640 px becomes 64 px; the OKS loss reads the shapes' sigmas. Not the -tiny config:
    mmpose 1.3.2 ships it with a ``PackPoseInputs(extra_mapping_labels=...)`` argument
    that its own PackPoseInputs does not accept.
    """
    cfg = shipped('mmpose::body_2d_keypoint/yoloxpose/coco/yoloxpose_s_8xb32-300e_coco-640.py')
    max_epochs, num_last_epochs, widen = 3, 1, 0.125
    train_factor = 64 / cfg.train_dataloader.dataset.pipeline[1].img_scale[0]  # Mosaic
    val_factor = 64 / cfg.val_dataloader.dataset.pipeline[1].input_size[0]  # BottomupResize
    model = cfg.model
    model.data_preprocessor.batch_augments[0].random_size_range = (64, 128)
    model.backbone.widen_factor = widen
    model.neck.update(in_channels=[32, 64, 128], out_channels=32)
    head = model.head
    head.num_keypoints = NUM_KEYPOINTS
    head.head_module_cfg.widen_factor = widen  # 256 channels * widen = the neck's 32
    # COCO has one class (person); the shapes have 4, and every shape has keypoints.
    head.num_classes = head.head_module_cfg.num_classes = 4
    # The OKS loss and the assigner's OKS read COCO's 17 sigmas unless told otherwise.
    head.loss_oks.metainfo = SYNTHETIC_POSE_METAINFO
    head.assigner.oks_calculator = dict(type='PoseOKS', metainfo=SYNTHETIC_POSE_METAINFO)
    _pose_data(cfg, data_root, batch_size=4)
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    train.pipeline = scale_sizes(train.pipeline, train_factor)
    val.pipeline = scale_sizes(val.pipeline, val_factor)
    shorten_schedule(cfg, max_epochs, warmup_end=1, cosine_begin=1,
                     constant_epochs=num_last_epochs, t_max=max_epochs - num_last_epochs)
    cfg.train_cfg.dynamic_intervals = [(max_epochs - num_last_epochs, 1)]
    switch = find_hook(cfg, 'YOLOXPoseModeSwitchHook')
    switch.update(num_last_epochs=num_last_epochs,
                  new_train_pipeline=scale_sizes(switch.new_train_pipeline, train_factor))
    find_hook(cfg, 'SyncNormHook')
    find_hook(cfg, 'EMAHook')
    return finalize(cfg, work_dir, by_epoch=True, length=max_epochs)
