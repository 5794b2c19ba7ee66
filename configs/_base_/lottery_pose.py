# Lottery defaults for top-down keypoint estimation (mmpose).
# Paper: keypoint tickets (Keypoint R-CNN) reset at 3535 iterations at batch 16 (~0.8 epoch
# of person instances); keypoint heads are most sensitive to pruning, so the defaults keep
# one-shot pruning at 80% and rewind to one epoch of the (much longer) 210-epoch schedule.
_base_ = ['./lottery.py']
lottery = dict(rounds=2, keep_ratio=0.2, scope='paper', rewind_epochs=1)
