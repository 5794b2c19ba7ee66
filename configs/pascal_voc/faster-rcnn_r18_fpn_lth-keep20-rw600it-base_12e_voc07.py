# OURS (FPN extension of Table 3): keep 20% of stem + res2-res4 only.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(groups=['backbone_base'])
