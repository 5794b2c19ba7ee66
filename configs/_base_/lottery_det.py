# Lottery defaults for COCO/VOC detection and instance segmentation (mmdet).
# Paper (Girish et al. 2021): one-shot direct pruning (2 rounds) with a global magnitude
# threshold over the `paper` scope, late resetting to about one epoch
# (7330 iterations at batch 16 on COCO), tickets at 80% sparsity match the dense AP.
_base_ = ['./lottery.py']
lottery = dict(rounds=2, keep_ratio=0.2, scope='paper', rewind_epochs=1)
