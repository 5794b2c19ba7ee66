# Structured (channel) lottery tickets on the demo task: the demo's recipe, with whole
# channels pruned by filter magnitude (Li et al. 2017) over two iterative rounds (channel
# keep 0.71, then 0.5 of every prunable group, groups tied by additions included), and
# the random-channel control at the last round's per-group counts. See docs/structured.md.
_base_ = '../demo/mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py'

lottery = dict(criterion=dict(_delete_=True, type='channel_magnitude', coupled=True), keep_ratio=0.5,
               rounds=3, controls=['random_ticket'])
