# Cross-task variant (not in the paper): the Mask R-CNN R18 ticket on Faster R-CNN R18 (every
# prunable tensor of Faster R-CNN is shared).
# One round, mask held, no rewind; values from this config's initialisation.
_base_ = '../faster_rcnn/faster-rcnn_r18_fpn_lth-dense_1x_coco.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='task',
    source='work_dirs/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco/round_1/ticket.pth'))
