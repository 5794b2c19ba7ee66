# OURS: R50-FPN, 3 geometric pruning rounds to keep 20% (4 rounds with the dense one).
_base_ = './faster-rcnn_r50_fpn_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(rounds=4)
