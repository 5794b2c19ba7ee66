# Copyright (c) lth_mm authors. All rights reserved.
"""Tiny versions of mmdet recipes: RTMDet, YOLOX, DINO, Cascade Mask R-CNN (iteration
based) and a two-source MultiSourceSampler Faster R-CNN.

Each function loads the config mmdet ships, keeps its hooks, samplers, transforms and
scheduler types, and shrinks the rest (see ``common.py``). Sizes: mmdet's 640 px (or
1333x800) pipelines become 64 px (or 133x80) on the 64 px synthetic shapes.
"""
from .common import (SHAPES, SHAPES_B, SHAPES_B_DIR, SHAPES_DIR, data_dir, finalize,
                     find_hook, scale_sizes, shipped, shorten_schedule,
                     switch_pipeline_for_last)

NUM_CLASSES = 4  # square, circle, triangle, cross


def _shapes(dataset, data_root, split, sub=SHAPES_DIR, synthetic=SHAPES):
    """``dataset`` (a recipe's CocoDataset dict) moved onto the synthetic shapes.

    Type, paths and metainfo are replaced; every other key (pipeline, filter_cfg,
    test_mode, backend_args) is the recipe's.
    """
    keep = {k: v for k, v in dataset.items()
            if k not in ('type', 'data_root', 'ann_file', 'data_prefix', 'metainfo')}
    return dict(keep, type='SyntheticCocoDataset', data_root=data_dir(data_root, sub),
                synthetic=dict(synthetic), ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img=f'images/{split}/'))


def _det_data(cfg, data_root, factor, batch_size):
    """Train/val loaders and evaluator of ``cfg`` on the shapes, pipelines scaled."""
    train = cfg.train_dataloader
    if train.dataset.type == 'MultiImageMixDataset':  # YOLOX: Mosaic/MixUp wrapper
        train.dataset.dataset = _shapes(train.dataset.dataset, data_root, 'train')
        train.dataset = scale_sizes(train.dataset, factor)
    else:
        train.dataset = scale_sizes(_shapes(train.dataset, data_root, 'train'), factor)
    train.batch_size = batch_size
    val = cfg.val_dataloader
    val.dataset = scale_sizes(_shapes(val.dataset, data_root, 'val'), factor)
    val.batch_size = 2
    cfg.val_evaluator.ann_file = data_dir(data_root, SHAPES_DIR) + 'annotations/instances_val.json'


def rtmdet(work_dir, data_root):
    """RTMDet-tiny: CachedMosaic/CachedMixUp pipeline, PipelineSwitchHook, EMAHook.

    3 epochs of 2 iterations; the pipeline switches to stage 2 (no mosaic/mixup) for the
    last epoch, as the shipped 300-epoch recipe does for its last 20.
    """
    cfg = shipped('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py')
    factor, max_epochs, stage2_epochs = 0.1, 3, 1
    model = cfg.model
    model.backbone.widen_factor = 0.125  # deepen_factor 0.167: already 1 block a stage
    model.neck.update(in_channels=[32, 64, 128], out_channels=32)
    model.bbox_head.update(num_classes=NUM_CLASSES, in_channels=32, feat_channels=32)
    _det_data(cfg, data_root, factor, batch_size=4)
    cfg.train_cfg.dynamic_intervals = [(max_epochs - stage2_epochs, 1)]
    # LinearLR (iterations), then cosine (epochs)
    shorten_schedule(cfg, max_epochs, warmup_end=2, cosine_begin=max_epochs // 2)
    switch_pipeline_for_last(cfg, max_epochs, stage2_epochs,
                             lambda pipeline: scale_sizes(pipeline, factor))
    return finalize(cfg, work_dir, by_epoch=True, length=max_epochs)


def yolox(work_dir, data_root):
    """YOLOX-s: MultiImageMixDataset (Mosaic, RandomAffine, MixUp), BatchSyncRandomResize,
    YOLOXModeSwitchHook, SyncNormHook, EMAHook.

    3 epochs of 2 iterations with ``num_last_epochs=1``: mmdet switches when
    ``epoch + 1 >= max_epochs - num_last_epochs``, i.e. from epoch 1 on, turning on
    ``bbox_head.use_l1`` and the dataset's ``_skip_type_keys`` (no Mosaic/RandomAffine/
    MixUp). SyncNormHook is kept: it returns at once when the world size is 1.
    """
    cfg = shipped('mmdet::yolox/yolox_s_8xb8-300e_coco.py')
    factor, max_epochs, num_last_epochs = 0.1, 3, 1
    model = cfg.model
    model.backbone.widen_factor = 0.125  # CSPDarknet (2, 3, 4) outputs: 32, 64, 128
    model.neck.update(in_channels=[32, 64, 128], out_channels=32)
    model.bbox_head.update(num_classes=NUM_CLASSES, in_channels=32, feat_channels=32)
    # 480-800 px multi-scale every 10 iterations -> 64-128 px every 2, so that it happens.
    model.data_preprocessor.batch_augments[0].update(random_size_range=(64, 128), interval=2)
    _det_data(cfg, data_root, factor, batch_size=4)
    shorten_schedule(cfg, max_epochs, warmup_end=1, cosine_begin=1,
                     constant_epochs=num_last_epochs, t_max=max_epochs - num_last_epochs)
    if 'dynamic_intervals' in cfg.train_cfg:
        cfg.train_cfg.dynamic_intervals = [(max_epochs - num_last_epochs, 1)]
    find_hook(cfg, 'YOLOXModeSwitchHook').num_last_epochs = num_last_epochs
    find_hook(cfg, 'SyncNormHook')  # asserts it is still there
    return finalize(cfg, work_dir, by_epoch=True, length=max_epochs)


def dino(work_dir, data_root):
    """DINO 4-scale R-50: ResNet-50 at 1/8 width, 1 encoder and 2 decoder layers, 30
    queries, 10 denoising queries; its RandomChoice multi-scale crop pipeline, AdamW with
    gradient clipping and backbone lr_mult; 2 epochs of 4 iterations.

    The embedding stays 256 wide: mmdet 3.3's DINO decoder encodes reference points with a
    fixed 128 features per coordinate (``coordinate_to_encoding``), i.e. for 256 dims.
    """
    cfg = shipped('mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py')
    factor, max_epochs = 0.1, 2
    model = cfg.model
    model.backbone.base_channels = 8  # stages 1-3 give 64, 128, 256 channels
    model.neck.in_channels = [64, 128, 256]
    model.num_queries = 30
    enc, dec = model.encoder, model.decoder
    enc.num_layers, dec.num_layers = 1, 2
    for ffn in (enc.layer_cfg.ffn_cfg, dec.layer_cfg.ffn_cfg):
        ffn.feedforward_channels = 256  # 2048
    model.bbox_head.num_classes = NUM_CLASSES
    model.dn_cfg.group_cfg.num_dn_queries = 10
    model.test_cfg.max_per_img = 30
    _det_data(cfg, data_root, factor, batch_size=2)
    (step, ) = cfg.param_scheduler  # MultiStepLR at epoch 11 of 12 -> 1 of 2
    step.update(end=max_epochs, milestones=[max_epochs - 1])
    return finalize(cfg, work_dir, by_epoch=True, length=max_epochs)


def _tiny_r50_fpn(model):
    """ResNet-50 at 1/8 width with a 32-channel FPN and RPN, smaller proposal budgets."""
    model.backbone.base_channels = 8  # stage outputs 32, 64, 128, 256
    model.neck.update(in_channels=[32, 64, 128, 256], out_channels=32)
    model.rpn_head.update(in_channels=32, feat_channels=32)
    roi = model.roi_head
    roi.bbox_roi_extractor.out_channels = 32
    heads = roi.bbox_head if isinstance(roi.bbox_head, list) else [roi.bbox_head]
    for head in heads:
        head.update(in_channels=32, fc_out_channels=32, num_classes=NUM_CLASSES)
    if roi.get('mask_head'):
        roi.mask_roi_extractor.out_channels = 32
        roi.mask_head.update(in_channels=32, conv_out_channels=32, num_classes=NUM_CLASSES)
    model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    rcnn = model.train_cfg.rcnn
    for stage in rcnn if isinstance(rcnn, list) else [rcnn]:
        stage.sampler.num = 64
    model.test_cfg.rpn.update(nms_pre=100, max_per_img=100)


def _iterations(cfg, max_iters):
    """mmdet's 1x schedule (linear warm-up of 500 iterations, steps at epochs 8 and 11 of
    12) in iterations, as mmdet's iteration-based configs write it."""
    warmup, step = cfg.param_scheduler
    warmup.end = 2
    step.update(by_epoch=False, begin=0, end=max_iters,
                milestones=[max_iters * 8 // 12, max_iters * 11 // 12])
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)


def cascade_iter(work_dir, data_root):
    """Cascade Mask R-CNN R-50-FPN trained by iterations: IterBasedTrainLoop,
    InfiniteSampler and the recipe's AspectRatioBatchSampler; 8 iterations of 2 images,
    a checkpoint every 4."""
    cfg = shipped('mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py')
    _tiny_r50_fpn(cfg.model)
    _det_data(cfg, data_root, factor=0.1, batch_size=2)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    assert cfg.train_dataloader.batch_sampler.type == 'AspectRatioBatchSampler'
    _iterations(cfg, max_iters=8)
    return finalize(cfg, work_dir, by_epoch=False, length=8, ckpt_interval=4)


def multisource(work_dir, data_root):
    """Faster R-CNN R-50-FPN on two sources through mmdet's MultiSourceSampler.

    The loader is mmdet's semi-supervised one (``_base_/datasets/semi_coco_detection.py``:
    a ConcatDataset, a multi-source sampler, an iteration-based loop) with both sources
    labelled, so that a plain detector trains on it: the supervised pipeline with its
    ``MultiBranch`` step replaced by the ``sup`` branch's PackDetInputs (the branches are
    for the semi-supervised detectors' multi-branch preprocessor). Batches of 3: 1 image
    from ``shapes64`` and 2 from ``shapes64_b`` (source_ratio [1, 2]); 4 iterations.
    """
    cfg = shipped('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')
    semi = shipped('mmdet::_base_/datasets/semi_coco_detection.py')
    _tiny_r50_fpn(cfg.model)
    _det_data(cfg, data_root, factor=0.1, batch_size=3)  # the val side
    pipeline = [t for t in semi.sup_pipeline if t.type != 'MultiBranch']
    pipeline.append(semi.sup_pipeline[-1].sup)
    labelled = dict(semi.labeled_dataset, pipeline=pipeline)
    sources = [scale_sizes(_shapes(labelled, data_root, 'train'), 0.1),
               scale_sizes(_shapes(labelled, data_root, 'train', SHAPES_B_DIR, SHAPES_B), 0.1)]
    batch_size = 3
    cfg.train_dataloader = dict(
        batch_size=batch_size,
        sampler=dict(type='MultiSourceSampler', batch_size=batch_size, source_ratio=[1, 2]),
        dataset=dict(type='ConcatDataset', datasets=sources))
    _iterations(cfg, max_iters=4)
    return finalize(cfg, work_dir, by_epoch=False, length=4)
