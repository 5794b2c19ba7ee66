# Fig. 2b (late-reset sweep): rewind to iteration 400 at batch 12:
# inside the 600-iteration warm-up (lth_mm warns; the paper's Fig. 2b tests it).
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(rewind_iter=400)
