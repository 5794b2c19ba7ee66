# Faster R-CNN R18-FPN, 1x schedule, COCO detection: the paper's direct-pruning ticket,
# keeping 20% of the prunable weights (one-shot: round 0 dense, round 1 the ticket), late
# reset to one epoch: the dense config with lottery_det.py's ticket settings.
_base_ = './faster-rcnn_r18_fpn_lth-dense_1x_coco.py'
lottery = dict(rounds=2, keep_ratio=0.2, rewind_epochs=1)
