# Mask R-CNN R18-FPN, 1x schedule, COCO instance segmentation (bbox + segm evaluation):
# the paper's direct-pruning ticket (Table 4: 78.4% network sparsity, box AP 30.04, mask
# AP 27.90), keeping 20% of the prunable weights, one-shot, late reset to one epoch. All
# from lottery_det.py (rounds=2, keep_ratio=0.2, rewind_epochs=1).
# mmdet ships no R18 Mask R-CNN: these are the bases of mmdet's
# mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py with the R18 model of ../_base_/models/.
_base_ = [
    '../_base_/models/mask-rcnn_r18_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/lottery_det.py',
]
# Per-category AP (Fig. 5: frequency and difficulty analyses need it).
val_evaluator = dict(classwise=True)
test_evaluator = dict(classwise=True)
