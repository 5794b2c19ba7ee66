# Table 1: ResNet-18 ImageNet ticket pruned 50%
# (configs/imagenet/resnet18_lth-keep50-rw1ep_8xb32_in1k.py, its round_1/final.pth:
# values, zeros and BN statistics) into the backbone of the dense COCO keypoints (Keypoint
# R-CNN) model
# (keypoint_rcnn/keypoint-rcnn_r18_fpn_lth-dense_90k_coco.py); neck and heads dense from their
# initialisation; one round, mask held,
# no rewind. Paper anchors: configs/transfer/README.md.
_base_ = '../keypoint_rcnn/keypoint-rcnn_r18_fpn_lth-dense_90k_coco.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='imagenet',
    source='work_dirs/resnet18_lth-keep50-rw1ep_8xb32_in1k/round_1/final.pth'))
