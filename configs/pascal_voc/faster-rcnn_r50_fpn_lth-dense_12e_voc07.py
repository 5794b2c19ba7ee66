# OURS: dense R50-FPN baseline on the paper's VOC2007 setting.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py', './_base_/voc07_paper_12e_dense.py']
model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))
