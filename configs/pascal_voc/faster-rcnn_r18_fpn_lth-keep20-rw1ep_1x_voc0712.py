# Reset-point sweep (paper: late resetting matters little until the learning-rate decay):
# the VOC R18 ticket at keep 20%, weights rewound after 1 VOC epoch (1/3 of mmdet's
# 3x-repeated epoch). Compare with the paper's point, iteration 600 of batch 12 (0.435 VOC
# epochs):
# ./faster-rcnn_r18_fpn_lth-keep20-rw600it_1x_voc0712.py
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_1x_voc0712.py'
lottery = dict(rewind_epochs=1 / 3)
