# Faster R-CNN R18-FPN sized for CPU runs on the embedded synthetic shapes (4 classes),
# trained from scratch: the CPU Mask R-CNN of mask-rcnn_r18_fpn_synthetic.py without its
# mask branch (the sizing lives there once), with Faster R-CNN's RoI assignment (mmdet's
# faster-rcnn_r50_fpn.py: no low-quality matches) and no mask padding.
_base_ = './mask-rcnn_r18_fpn_synthetic.py'
model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(pad_mask=False),
    roi_head=dict(mask_roi_extractor=None, mask_head=None),
    train_cfg=dict(rcnn=dict(assigner=dict(match_low_quality=False))))
