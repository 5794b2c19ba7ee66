# Fig. 2d (number of rounds): 5 geometric pruning rounds to keep 20% (6 rounds with
# the dense one), each ticket rewound to iteration 600;
# one-shot is faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(rounds=6)
