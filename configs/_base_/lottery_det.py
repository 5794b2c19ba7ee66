# Lottery defaults for COCO detection and instance segmentation (mmdet): Faster R-CNN and
# Mask R-CNN, ResNet-18/50 FPN, 1x schedule. Only the rewind point differs from
# lottery.py (one-shot, keep 20%, `paper` scope, global magnitude).
#
# Paper (direct pruning): late reset to iteration 7330 at batch 16. 7330 x 16 = 117,280
# images = one epoch of COCO train2017 (117,266 images with annotations, which mmdet's
# filter_empty_gt keeps), well after mmdet's 500-iteration warm-up. `rewind_epochs=1` says
# the same independently of the batch size (7,329 iterations at mmdet's 8 GPUs x 2).
_base_ = ['./lottery.py']
lottery = dict(rewind_epochs=1)
