# Pascal VOC 2007 as the paper trains on it: VOC2007 trainval (5,011 images) for training,
# VOC2007 test (4,952) with the 11-point VOC07 mAP for evaluation. The official code
# (faster-rcnn.pytorch) appends a flipped copy of every image (10,022 entries, 835
# iterations an epoch at batch 12); here the data are repeated twice with mmdet's random
# flip, the same number of samples an epoch (836 iterations at batch 12).
# mmdet's voc0712.py trains on VOC07+12 (16,551 images): not the paper's data.
_base_ = 'mmdet::_base_/datasets/voc0712.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=2,  # = the official code's flipped copies
        dataset=dict(
            type={{_base_.dataset_type}},
            data_root={{_base_.data_root}},
            ann_file='VOC2007/ImageSets/Main/trainval.txt',
            data_prefix=dict(sub_data_root='VOC2007/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=32, bbox_min_size=32),
            pipeline={{_base_.train_pipeline}},
            backend_args={{_base_.backend_args}})))
