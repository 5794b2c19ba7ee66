# The paper's ticket plus the random-ticket control round (random mask with the ticket's
# per-layer counts, rewound to the same point): is the mask's structure what matters?
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(controls=['random_ticket'])
