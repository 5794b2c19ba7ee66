# OURS, not the paper's model: Faster R-CNN R18-FPN on the paper's VOC2007 setting
# (data, schedule, late reset at iteration 600 and `paper_voc` scope of the C4 configs),
# keeping 20%. The paper's VOC numbers are for the C4 model (faster-rcnn_r18-c4_*).
_base_ = './faster-rcnn_r18_fpn_lth-dense_12e_voc07.py'
lottery = dict(rounds=2, keep_ratio=0.2, rewind_iter=600)
