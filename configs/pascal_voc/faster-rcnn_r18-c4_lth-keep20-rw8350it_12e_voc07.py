# Fig. 2b (late-reset sweep): rewind to iteration 8350 at batch 12 = 10 epochs, the LR decay.
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(rewind_iter=8350)
