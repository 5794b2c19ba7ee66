# Module ablation (paper, VOC R18): prune only the backbone's stem and res2-res4 (the
# paper's 'base': 69.32 mAP). Keeps 20% of the selected weights (`paper` scope restricted
# to lottery.groups: no shortcuts, norms, biases or final predictors); everything else
# stays dense. One-shot, late reset at the paper's iteration 600 of batch 12.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_1x_voc0712.py'
lottery = dict(groups=['backbone_base'])
