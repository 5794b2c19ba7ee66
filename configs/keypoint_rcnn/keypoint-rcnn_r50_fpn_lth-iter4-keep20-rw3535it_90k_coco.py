# Keypoint R-CNN R50-FPN on COCO person keypoints: iterative magnitude pruning to keep 20%
# in 3 pruning rounds (4 with the dense one, geometric: 100% -> 58.5% -> 34.2% -> 20%), each
# ticket rewound to iteration 3535 and retrained for the full schedule (4x the cost of the
# one-shot ticket, which the paper finds as good or better).
_base_ = './keypoint-rcnn_r50_fpn_lth-keep20-rw3535it_90k_coco.py'
lottery = dict(rounds=4, schedule='geometric')
