# Dense baseline of Keypoint R-CNN R50-FPN on COCO person keypoints (one round, nothing
# pruned): the reference for the tickets of this folder.
_base_ = './keypoint-rcnn_r50_fpn_lth-keep20-rw3535it_90k_coco.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_iter=None)
