# Faster R-CNN R50-FPN on Pascal VOC 07+12 (mmdet's 1x VOC schedule: 12 VOC epochs): the
# paper's VOC ticket, keeping 20% of the prunable weights, one-shot, late reset at the
# paper's iteration 600 of batch 12 (rewind_epochs=0.145 of mmdet's 3x-repeated epoch).
# All from lottery_voc.py.
_base_ = [
    'mmdet::pascal_voc/faster-rcnn_r50_fpn_1x_voc0712.py',
    '../_base_/lottery_voc.py',
]
