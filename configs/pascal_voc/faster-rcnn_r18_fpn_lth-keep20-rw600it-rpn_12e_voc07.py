# OURS (FPN extension of Table 3): keep 20% of the RPN (conv + predictors) only.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(groups=['rpn'])
