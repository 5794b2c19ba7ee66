# Keypoint R-CNN R18-FPN on COCO person keypoints: lottery ticket keeping 10% of the
# prunable weights (one-shot, late reset to iteration 3535).
_base_ = './keypoint-rcnn_r18_fpn_lth-keep20-rw3535it_90k_coco.py'
lottery = dict(keep_ratio=0.1)
