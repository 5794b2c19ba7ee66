# Table 4, keypoints -> det / seg (paper 23.94 box AP / 23.02 mask AP; direct 30.04 / 27.90): the
# Keypoint R-CNN R18 ticket on the Mask R-CNN parts both share; the mask head dense.
# One round, mask held, no rewind; values from this config's initialisation.
_base_ = '../mask_rcnn/mask-rcnn_r18_fpn_lth-dense_1x_coco.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='task',
    source='work_dirs/keypoint-rcnn_r18_fpn_lth-keep20-rw3535it_90k_coco/round_1/ticket.pth'))
