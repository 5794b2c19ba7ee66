# Structured lottery ticket by channel refilling (Chen et al. 2022, IMP-Refill): the
# channels in which a one-shot unstructured magnitude ticket (keep 0.25) keeps most weights,
# refilled dense; channel keep 0.5 of every prunable group. See docs/structured.md.
_base_ = '../demo/mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py'

lottery = dict(criterion=dict(_delete_=True, type='channel_refill', coupled=True), keep_ratio=0.5,
               rounds=2, controls=[])
