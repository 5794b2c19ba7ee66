# Fig. 2b (late-reset sweep): rewind to iteration 0 at batch 12 = the initialisation.
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(rewind_iter=0)
