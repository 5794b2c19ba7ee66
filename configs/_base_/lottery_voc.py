# Lottery defaults for Pascal VOC 2007, as the paper's official VOC code runs them
# (faster-rcnn.pytorch; schedule in schedules/voc07_paper_12e.py).
#
# One-shot (2 rounds), keep 20% of the prunable weights, one global magnitude threshold
# (the VOC script prunes globally unless `--layerwise` is passed; its example command does
# not pass it), late reset at iteration 600 of batch 12: the end of the 600-iteration
# warm-up, 0.72 of an 835-iteration epoch, 6% of training. The warm-up is 600 iterations
# at any batch size, so `rewind_iter=600` stays "the end of warm-up" when the batch
# changes (in images seen it is 7,200 at batch 12).
#
# `paper_voc` scope: the VOC code's module groups prune the final predictors too (its
# "Box, Cls head" group catches all four, RPN's included); only 1x1 shortcuts, norms and
# biases stay dense. Its "All" row is this scope without groups.
_base_ = ['./lottery.py']
lottery = dict(prune_scope='paper_voc', rewind_iter=600)
