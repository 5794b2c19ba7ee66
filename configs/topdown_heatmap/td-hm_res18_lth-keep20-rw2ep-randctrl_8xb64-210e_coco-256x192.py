# Top-down heatmap ResNet-18 on COCO keypoints: the keep-20% ticket plus its controls, in
# one run: round 2 trains a random mask with the ticket's per-layer counts
# ('random_ticket'), round 3 the ticket's mask with re-initialised weights
# ('random_reinit'), both from the same rewind point. A winning ticket beats both.
_base_ = './td-hm_res18_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py'
lottery = dict(controls=['random_ticket', 'random_reinit'])
