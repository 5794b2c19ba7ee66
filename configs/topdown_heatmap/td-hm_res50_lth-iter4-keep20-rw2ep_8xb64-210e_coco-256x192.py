# Top-down heatmap ResNet-50 on COCO keypoints: iterative magnitude pruning to keep 20% in
# 3 pruning rounds (4 rounds with the dense one, geometric: keep 100% -> 58.5% -> 34.2% ->
# 20%), each ticket rewound to the same late-reset point and retrained for the full
# schedule. The paper finds one-shot pruning as good or better at its budget; this is the
# comparison (4x the training cost).
_base_ = './td-hm_res50_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py'
lottery = dict(rounds=4, schedule='geometric')
