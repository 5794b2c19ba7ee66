# Faster R-CNN R18-C4 on Pascal VOC 2007, the paper's VOC setting: VOC2007 trainval,
# 12 epochs at batch 12 with a 600-iteration warm-up, LR x0.1 at iteration ~8.35k; one-shot
# ticket keeping 20% of every conv/fc weight but the 1x1 shortcuts (final predictors
# included, as the official VOC code's "All" row: Table 3, 68.47 mAP at a nominal 78.94%),
# late reset at iteration 600 (the end of warm-up). The paper averages 5 seeds:
#   python tools/seeds.py launch \
#       configs/pascal_voc/faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py --seeds 0 1 2 3 4
_base_ = './faster-rcnn_r18-c4_lth-dense_12e_voc07.py'
lottery = dict(rounds=2, keep_ratio=0.2, rewind_iter=600)
