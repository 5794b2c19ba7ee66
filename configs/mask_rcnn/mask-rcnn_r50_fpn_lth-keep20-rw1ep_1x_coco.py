# Mask R-CNN R50-FPN, 1x schedule, COCO instance segmentation (bbox + segm evaluation):
# the paper's direct-pruning ticket, keeping 20% of the prunable weights, one-shot, late
# reset to one epoch. All from lottery_det.py (rounds=2, keep_ratio=0.2, rewind_epochs=1).
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', '../_base_/lottery_det.py']
# Per-category AP (Fig. 5: frequency and difficulty analyses need it).
val_evaluator = dict(classwise=True)
test_evaluator = dict(classwise=True)
