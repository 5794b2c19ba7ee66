# Cross-task variant (not in the paper): the Mask R-CNN R18 ticket on a top-down heatmap pose
# model; only the backbone is shared (the heatmap head dense).
# One round, mask held, no rewind; values from this config's initialisation.
_base_ = '../topdown_heatmap/td-hm_res18_lth-dense_8xb64-210e_coco-256x192.py'
lottery = dict(transfer=dict(
    _delete_=True,  # the dense config's transfer is None
    mode='task',
    source='work_dirs/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco/round_1/ticket.pth'))
