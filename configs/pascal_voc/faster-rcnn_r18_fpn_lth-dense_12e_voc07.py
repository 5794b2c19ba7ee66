# OURS: dense R18-FPN baseline on the paper's VOC2007 setting.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_iter=None)
