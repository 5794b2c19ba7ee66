# Dense baseline of Mask R-CNN R50-FPN 1x on COCO: one round, nothing pruned. A plain
# mmdet training run (../_base_/lottery_dense.py), the reference for and the base of the
# tickets of this folder.
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', '../_base_/lottery_dense.py']
# Per-category AP (Fig. 5: frequency and difficulty analyses need it).
val_evaluator = dict(classwise=True)
test_evaluator = dict(classwise=True)
