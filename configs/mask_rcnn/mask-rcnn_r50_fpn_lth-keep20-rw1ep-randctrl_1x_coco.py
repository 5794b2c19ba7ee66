# Mask R-CNN R50-FPN 1x on COCO: the keep-20% ticket plus its controls, in one run: round
# 2 trains a random mask with the ticket's per-layer counts ('random_ticket'), round 3 the
# ticket's mask with re-initialised weights ('random_reinit'), both from the same rewind
# point. A winning ticket beats both.
_base_ = './mask-rcnn_r50_fpn_lth-keep20-rw1ep_1x_coco.py'
lottery = dict(controls=['random_ticket', 'random_reinit'])
