# Quickstart, keypoints: a full lottery experiment of the top-down heatmap ResNet-18 of
# configs/topdown_heatmap/ (mmpose SimpleBaseline) on the embedded synthetic shapes (5
# keypoints per shape: top, right, bottom, left, center), CPU-sized: 64x64 crops, 16x16
# heatmaps, trained from scratch on the shapes of the 128 px images of the other
# quickstarts (~630, 20 iterations per epoch), 20 epochs per round. Dense (round 0), then the
# ticket keeping 20% of the prunable weights (round 1, late reset to 3 epochs = 60
# iterations, past its 50-iteration warm-up); COCO keypoint AP (OKS) on the val split.
#
#   mim train lth_mm configs/quickstart/td-hm_res18_lth-keep20_synthetic-64x64.py --gpus 0
#
# Other data: override `data_root` and `synthetic` of train_dataloader.dataset and
# val_dataloader.dataset alike, and val_evaluator.ann_file
# (see faster-rcnn_r18_fpn_lth-keep20_synthetic.py); crops are 64x64 whatever the images.
_base_ = ['../topdown_heatmap/td-hm_res18_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py']

codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)
model = dict(
    backbone=dict(init_cfg=None),  # from scratch: no ImageNet weights offline
    head=dict(out_channels=5, decoder=codec))

dataset_type = 'SyntheticPoseDataset'
data_root = 'data/lth_synthetic_128/'  # the data of the other quickstarts
synthetic = dict(num_train=200, num_val=30, img_size=128, seed=0)
# mmpose's pipeline without RandomHalfBody (it needs >= 9 keypoints; shapes have 5).
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size']),
    dict(type='PackPoseInputs')
]


def split_loader(split, **dataset):
    """The CPU-sized loader of one split, read in the generated layout
    (annotations/instances_{split}.json, images/{split}/; functions are no config keys).

    Args:
        split (str): ``train`` or ``val``.
        **dataset: what the split's dataset sets besides (its pipeline, bbox_file).

    Returns:
        dict: the dataloader config.
    """
    return dict(batch_size=32, num_workers=0, persistent_workers=False,
                dataset=dict(type=dataset_type, data_root=data_root, synthetic=synthetic,
                             ann_file=f'annotations/instances_{split}.json',
                             data_prefix=dict(img=f'images/{split}/'), **dataset))


train_dataloader = split_loader('train', pipeline=train_pipeline)
val_dataloader = split_loader('val', bbox_file=None, pipeline=val_pipeline)  # ground-truth boxes
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

max_epochs = 20
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # mmpose's Adam, 2x its lr: from scratch
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=max_epochs, milestones=[15, 18], gamma=0.1,
         by_epoch=True)
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1),
    logger=dict(interval=10))
randomness = dict(seed=0)
# Late reset past the 50-iteration warm-up: 3 epochs of 20 iterations (the paper warns
# against a reset before the LR has warmed up, Sec. 4.3).
lottery = dict(rewind_epochs=3)
