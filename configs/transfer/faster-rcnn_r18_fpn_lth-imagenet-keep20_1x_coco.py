# Table 1: ResNet-18 ImageNet ticket pruned 80%
# (configs/imagenet/resnet18_lth-keep20-rw1ep_8xb32_in1k.py, its round_1/final.pth:
# values, zeros and BN statistics) into the backbone of the dense COCO detection model
# (faster_rcnn/faster-rcnn_r18_fpn_lth-dense_1x_coco.py); neck and heads dense from their
# initialisation; one round, mask held,
# no rewind. Paper anchors: configs/transfer/README.md.
_base_ = '../faster_rcnn/faster-rcnn_r18_fpn_lth-dense_1x_coco.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='imagenet',
    source='work_dirs/resnet18_lth-keep20-rw1ep_8xb32_in1k/round_1/final.pth'))
