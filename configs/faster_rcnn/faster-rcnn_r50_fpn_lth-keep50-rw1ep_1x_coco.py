# Faster R-CNN R50-FPN 1x on COCO: lottery ticket keeping 50% of the prunable weights
# (one-shot, late reset to 1 epoch).
_base_ = './faster-rcnn_r50_fpn_lth-keep20-rw1ep_1x_coco.py'
lottery = dict(keep_ratio=0.5)
