# Lottery defaults for COCO detection and instance segmentation (mmdet): Faster R-CNN and
# Mask R-CNN, ResNet-18/50 FPN, 1x schedule. Pascal VOC has its own: lottery_voc.py.
#
# Paper (Girish et al., CVPR 2021, direct pruning): one-shot pruning (2 rounds: dense, then
# the ticket) with one global magnitude threshold over the `paper` scope, keeping 20% of
# the prunable weights (78.4% network sparsity on R18 Mask R-CNN, box AP 30.04 vs 29.91
# dense), and late resetting to iteration 7330 at batch 16. 7330 x 16 = 117,280 images =
# one epoch of COCO train2017 (117,266 images with annotations, which mmdet's
# filter_empty_gt keeps). `rewind_epochs=1` says the same thing independently of the batch
# size: the hook converts it with the train dataloader's length (7,329 iterations at
# mmdet's 8 GPUs x 2 images).
_base_ = ['./lottery.py']
lottery = dict(rounds=2, keep_ratio=0.2, prune_scope='paper', rewind_epochs=1)
