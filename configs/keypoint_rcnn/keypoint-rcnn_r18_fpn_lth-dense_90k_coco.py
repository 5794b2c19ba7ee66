# Dense baseline of Keypoint R-CNN R18-FPN on COCO person keypoints (one round, nothing
# pruned) (paper Table 4: keypoint AP 58.59): the reference for and the base of the
# tickets of this folder.
_base_ = ['./_base_/keypoint-rcnn_r18_fpn.py', './_base_/keypoint-rcnn_90k_coco_dense.py']
optim_wrapper = dict(optimizer=dict(lr=0.015))
