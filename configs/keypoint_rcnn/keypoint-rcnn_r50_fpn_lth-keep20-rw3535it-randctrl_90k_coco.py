# Keypoint R-CNN R50-FPN on COCO person keypoints: the keep-20% ticket plus its controls in
# one run: a random mask with the ticket's per-layer counts ('random_ticket') and the
# ticket's mask with re-initialised weights ('random_reinit'), both from iteration 3535.
_base_ = './keypoint-rcnn_r50_fpn_lth-keep20-rw3535it_90k_coco.py'
lottery = dict(controls=['random_ticket', 'random_reinit'])
