# Lottery defaults for Pascal VOC 07+12 detection (mmdet's pascal_voc configs).
#
# Paper (official VOC code, faster-rcnn.pytorch): one-shot (2 rounds), keep 20% of the
# prunable weights, late reset at iteration 600 of batch 12, 12 epochs.
# 600 x 12 = 7,200 images = 0.435 of an epoch over VOC07+12 trainval (16,551 images).
# mmdet's `_base_/datasets/voc0712.py` wraps the data in RepeatDataset(times=3), so one
# epoch of its train dataloader is 3 x 16,551 = 49,653 images (its "4 epochs" are 12 VOC
# epochs). `rewind_epochs` counts dataloader epochs, hence 7,200 / 49,653 = 0.145: 450
# iterations at mmdet's 8 GPUs x 2 images, 600 at batch 12, always 7,200 images.
# (A config without RepeatDataset, e.g. the synthetic quickstart, rewinds after 14.5% of
# its epoch; set lottery.rewind_epochs there if that matters.)
#
# The official VOC code pruned layer-wise (same fraction per tensor) although the paper
# reports global pruning as better above 60% sparsity; the defaults follow the paper
# (global). `--cfg-options lottery.criterion=layerwise_magnitude` reproduces the code.
_base_ = ['./lottery.py']
lottery = dict(rounds=2, keep_ratio=0.2, prune_scope='paper', rewind_epochs=0.145)
