# Dense baseline of Faster R-CNN R18-FPN 1x on COCO: one round, nothing pruned. A plain
# mmdet training run (../_base_/lottery_dense.py), the reference for and the base of the
# tickets of this folder.
# mmdet ships no R18 Faster R-CNN: these are the bases of mmdet's
# faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py with the R18 model of ../_base_/models/
# (depth 18, FPN in_channels [64, 128, 256, 512], torchvision ResNet-18 weights).
_base_ = [
    '../_base_/models/faster-rcnn_r18_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/lottery_dense.py',
]
# Per-category AP (Fig. 5: frequency and difficulty analyses need it).
val_evaluator = dict(classwise=True)
test_evaluator = dict(classwise=True)
