# Table 5 mask transfer keeping 20% of the prunable weights
# (_base_/mask-rcnn_r50_fpn_masktransfer_1x_coco.py).
_base_ = './_base_/mask-rcnn_r50_fpn_masktransfer_1x_coco.py'
lottery = dict(transfer=dict(keep_ratio=0.2))
