# Table 4, det/seg -> keypoints (paper 58.31 keypoint AP; direct 59.34): the Mask R-CNN R18 ticket
# (80% pruned) on the Keypoint R-CNN parts both share (backbone, FPN, RPN, box head).
# One round, mask held, no rewind; values from this config's initialisation.
_base_ = '../keypoint_rcnn/keypoint-rcnn_r18_fpn_lth-dense_90k_coco.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='task',
    source='work_dirs/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco/round_1/ticket.pth'))
