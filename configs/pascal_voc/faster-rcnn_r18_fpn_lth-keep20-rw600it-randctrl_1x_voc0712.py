# Faster R-CNN R18-FPN on Pascal VOC 07+12: the keep-20% ticket plus its controls, in one
# run: round 2 trains a random mask with the ticket's per-layer counts ('random_ticket'),
# round 3 the ticket's mask with re-initialised weights ('random_reinit'), both from the
# same rewind point. A winning ticket beats both.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_1x_voc0712.py'
lottery = dict(controls=['random_ticket', 'random_reinit'])
