# Faster R-CNN R50-FPN on Pascal VOC 07+12: lottery ticket keeping 50% of the prunable
# weights (one-shot, late reset at the paper's iteration 600 of batch 12).
_base_ = './faster-rcnn_r50_fpn_lth-keep20-rw600it_1x_voc0712.py'
lottery = dict(keep_ratio=0.5)
