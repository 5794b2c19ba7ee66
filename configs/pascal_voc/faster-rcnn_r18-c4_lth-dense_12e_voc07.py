# Dense baseline of the paper's VOC model (R18-C4, VOC2007, paper schedule): one round,
# nothing pruned (Table 3: 69.74 mAP).
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_iter=None)
