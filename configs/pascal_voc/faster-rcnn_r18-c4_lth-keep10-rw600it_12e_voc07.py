# Fig. 2e (global magnitude, the paper's default) at keep 10%; layer-wise:
# faster-rcnn_r18-c4_lth-keep10-rw600it-layerwise_12e_voc07.py
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(keep_ratio=0.1)
