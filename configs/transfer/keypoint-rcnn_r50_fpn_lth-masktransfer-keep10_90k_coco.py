# Table 5 mask transfer keeping 10% of the prunable weights
# (_base_/keypoint-rcnn_r50_fpn_masktransfer_90k_coco.py).
_base_ = './_base_/keypoint-rcnn_r50_fpn_masktransfer_90k_coco.py'
lottery = dict(transfer=dict(keep_ratio=0.1))
