# Mask R-CNN R18-FPN, 1x schedule, COCO instance segmentation (bbox + segm evaluation):
# the paper's direct-pruning ticket (Table 4: 78.4% network sparsity, box AP 30.04, mask
# AP 27.90), keeping 20% of the prunable weights, one-shot, late reset to one epoch:
# the dense config with lottery_det.py's ticket settings.
_base_ = './mask-rcnn_r18_fpn_lth-dense_1x_coco.py'
lottery = dict(rounds=2, keep_ratio=0.2, rewind_epochs=1)
