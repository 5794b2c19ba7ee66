# Cross-task variant (not in the paper): the Faster R-CNN R18 ticket on Mask R-CNN R18; the mask
# head dense.
# One round, mask held, no rewind; values from this config's initialisation.
_base_ = '../mask_rcnn/mask-rcnn_r18_fpn_lth-dense_1x_coco.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='task',
    source='work_dirs/faster-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco/round_1/ticket.pth'))
