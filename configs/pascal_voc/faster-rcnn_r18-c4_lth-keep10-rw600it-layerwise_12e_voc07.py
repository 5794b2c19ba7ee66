# Fig. 2e (layer-wise vs global): the same fraction kept in every tensor, keep 10%.
_base_ = './faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'
lottery = dict(keep_ratio=0.1, criterion='layerwise_magnitude')
