# Lottery defaults for top-down keypoint estimation (mmpose heatmap models).
#
# Paper: keypoint tickets (Keypoint R-CNN R18: 79.4% network sparsity at keep 20%, AP 59.34
# vs 58.59 dense) are one-shot (2 rounds), global magnitude over the `paper` scope, late
# reset to iteration 3535 at batch 16. 3535 x 16 = 56,560 images: about one epoch of the
# ~56.6k COCO train2017 images with at least one labelled keypoint (what detectron2's
# Keypoint R-CNN trains on). A top-down model trains on person crops instead (149,813
# instances, ~293 iterations per epoch at mmpose's 8 GPUs x 64), so the same point is
# `rewind_epochs=1`: one pass over the training data, independent of the batch size.
# The 210-epoch schedule makes that an earlier point of training than on COCO detection
# (1/210 instead of 1/12 of the schedule).
_base_ = ['./lottery.py']
lottery = dict(rounds=2, keep_ratio=0.2, prune_scope='paper', rewind_epochs=1)
