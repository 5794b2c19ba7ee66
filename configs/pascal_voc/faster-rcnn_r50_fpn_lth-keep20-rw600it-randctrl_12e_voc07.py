# OURS: R50-FPN ticket + random-ticket control round.
_base_ = './faster-rcnn_r50_fpn_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(controls=['random_ticket'])
