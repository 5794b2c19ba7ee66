# Table 1: ResNet-18 ImageNet ticket pruned 50%
# (configs/imagenet/resnet18_lth-keep50-rw1ep_8xb32_in1k.py, its round_1/final.pth:
# values, zeros and BN statistics) into the backbone of the dense VOC07 detection (C4) model
# (pascal_voc/faster-rcnn_r18-c4_lth-dense_12e_voc07.py); neck and heads dense from their
# initialisation; one round, mask held,
# no rewind. Paper anchors: configs/transfer/README.md.
_base_ = '../pascal_voc/faster-rcnn_r18-c4_lth-dense_12e_voc07.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='imagenet',
    source='work_dirs/resnet18_lth-keep50-rw1ep_8xb32_in1k/round_1/final.pth'))
