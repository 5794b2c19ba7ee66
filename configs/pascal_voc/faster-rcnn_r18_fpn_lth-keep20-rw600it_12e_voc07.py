# OURS, not the paper's model: Faster R-CNN R18-FPN on the paper's VOC2007 setting
# (data, schedule, late reset at iteration 600 and `paper_voc` scope of the C4 configs),
# keeping 20%. The paper's VOC numbers are for the C4 model (faster-rcnn_r18-c4_*).
_base_ = [
    '../_base_/models/faster-rcnn_r18_fpn.py',
    '../_base_/datasets/voc07.py',
    '../_base_/schedules/voc07_paper_12e.py',
    '../_base_/lottery_voc.py',
]
model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))
default_hooks = dict(checkpoint=dict(save_best='pascal_voc/mAP', rule='greater'))
