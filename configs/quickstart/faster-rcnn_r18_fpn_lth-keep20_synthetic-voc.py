# Quickstart, Pascal VOC layout: the lottery experiment of the VOC configs (lottery_voc.py:
# one-shot, keep 20%, `paper_voc` scope) on the embedded synthetic shapes written as VOC
# XML, with mmdet's VOCDataset machinery and VOC07 11-point mAP. Dense Faster R-CNN
# R18-FPN (round 0) and its ticket (round 1), from scratch on CPU on the 128 px images of
# the detection quickstart (data/lth_synthetic_128/), 3 epochs of 100 iterations per
# round, about 6 minutes on 2 cores. The reset is, as in the paper, the end of warm-up:
# iteration 50 of this recipe (600 in the paper's schedule).
#
#   mim train lth_mm configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic-voc.py --gpus 0
#
# Other data: override `data_root` and `synthetic` of train_dataloader.dataset and
# val_dataloader.dataset alike (see faster-rcnn_r18_fpn_lth-keep20_synthetic.py; the VOC
# metric reads no json).
_base_ = [
    '../_base_/models/faster-rcnn_r18_fpn_synthetic.py',
    '../_base_/datasets/synthetic_voc.py',
    '../_base_/schedules/synthetic_adamw_3e.py',
    '../_base_/lottery_voc.py',
]

default_hooks = dict(checkpoint=dict(save_best='pascal_voc/mAP'))
lottery = dict(rewind_iter=50)
