# Fig. 2a (sparsity sweep of the backbone: base + top only): keep 30% of the backbone's
# conv weights, heads dense.
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(keep_ratio=0.3, groups=['backbone_base', 'backbone_top'])
