# Quickstart / `make demo`: a full lottery experiment on the embedded synthetic shapes:
# dense Mask R-CNN R18-FPN (round 0), its magnitude ticket at 80% sparsity of the prunable
# weights (round 1, late reset to 1/4 epoch) and the random-ticket control (round 2), each
# trained from scratch and evaluated on COCO bbox + segm metrics.
#
# CPU-sized so that the three rounds fit in about 10 minutes on 2 cores: 128 px images,
# a 128-channel FPN and heads (instead of 256), 64 sampled RoIs, 256-d box fcs, AdamW.
# The architecture is otherwise mmdet's Mask R-CNN with a ResNet-18 backbone.
#
#   mim train lth_mm configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py
_base_ = [
    '../_base_/models/mask-rcnn_r18_fpn_synthetic.py',
    '../_base_/datasets/synthetic_instance.py',
    '../_base_/schedules/synthetic_adamw_3e.py',
    '../_base_/lottery_det.py',
]
# CPU-sized model (_base_/models/mask-rcnn_r18_fpn_synthetic.py), at most 30 detections.
model = dict(test_cfg=dict(rcnn=dict(max_per_img=30)))

# 128 px images (200 train, 30 val), generated on first use.
data_root = 'data/lth_synthetic_128/'
synthetic = dict(num_train=200, num_val=30, img_size=128, seed=0)
# `indices`: train on the first 170 images (85 iterations an epoch) so that the three
# rounds fit in 10 minutes (measured: 0.66 s an iteration, 10 min 48 s with all 200).
train_dataloader = dict(dataset=dict(data_root=data_root, synthetic=synthetic, indices=170))
val_dataloader = dict(dataset=dict(data_root=data_root, synthetic=synthetic))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(save_best='coco/bbox_mAP'))

# Late resetting at a quarter epoch = 21 of 255 iterations, about the paper's fraction
# (1 epoch of a 12-epoch schedule).
lottery = dict(rewind_epochs=0.25, controls=['random_ticket'])
