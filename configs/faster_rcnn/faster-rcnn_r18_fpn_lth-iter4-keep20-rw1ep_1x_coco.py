# Faster R-CNN R18-FPN 1x on COCO: iterative magnitude pruning to keep 20% in 3 pruning
# rounds (4 rounds with the dense one, geometric: keep 100% -> 58.5% -> 34.2% -> 20%),
# each ticket rewound to the same late-reset point and retrained for the full schedule.
# The paper finds one-shot pruning as good or better at its budget; this is the comparison
# (4x the training cost).
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py'
lottery = dict(rounds=4, schedule='geometric')
