# Dense baseline of the paper's VOC model (R18-C4, VOC2007, paper schedule): one round,
# nothing pruned (Table 3: 69.74 mAP).
_base_ = ['../_base_/models/faster-rcnn_r18-c4.py', './_base_/voc07_paper_12e_dense.py']
model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))
