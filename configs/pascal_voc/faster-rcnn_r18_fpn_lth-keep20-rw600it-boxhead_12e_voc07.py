# OURS (FPN extension of Table 3): keep 20% of the box head (fc1, fc2, predictors) only.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(groups=['box_head'])
