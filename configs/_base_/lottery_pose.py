# Lottery defaults for top-down keypoint estimation (mmpose heatmap models). Only the
# rewind point differs from lottery.py (one-shot, keep 20%, `paper` scope, global).
#
# Paper: Keypoint R-CNN tickets late-reset to iteration 3535 at batch 16 (about one epoch
# of the ~56.6k keypoint images), well past its warm-up; Sec. 4.3 shows that resetting
# before the LR has warmed up costs AP. A top-down model trains on the 149,813 person
# crops: one epoch is ~293 iterations at mmpose's 8 GPUs x 64, inside mmpose's
# 500-iteration linear warm-up. Two epochs (586 iterations at 8 x 64, 1/105 of the
# schedule) are the first whole number of epochs past it; with a larger total batch than
# 512 raise it (lth_mm warns when the rewind point falls inside a warm-up).
_base_ = ['./lottery.py']
lottery = dict(rewind_epochs=2)
