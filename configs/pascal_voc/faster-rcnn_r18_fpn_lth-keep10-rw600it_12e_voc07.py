# OURS: R18-FPN ticket keeping 10%, VOC2007 paper setting.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(keep_ratio=0.1)
