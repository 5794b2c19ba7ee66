# Dense baseline of Keypoint R-CNN R50-FPN on COCO person keypoints (one round, nothing
# pruned): the reference for and the base of the tickets of this folder.
_base_ = ['./_base_/keypoint-rcnn_r50_fpn.py', './_base_/keypoint-rcnn_90k_coco_dense.py']
optim_wrapper = dict(optimizer=dict(lr=0.02))
