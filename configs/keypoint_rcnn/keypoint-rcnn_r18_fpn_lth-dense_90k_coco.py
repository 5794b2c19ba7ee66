# Dense baseline of Keypoint R-CNN R18-FPN on COCO person keypoints (one round, nothing
# pruned) (paper Table 4: keypoint AP 58.59): the reference for the tickets of this folder.
_base_ = './keypoint-rcnn_r18_fpn_lth-keep20-rw3535it_90k_coco.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_iter=None)
