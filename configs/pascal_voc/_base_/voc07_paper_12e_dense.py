# The paper's Pascal VOC 2007 setting for every model of this folder, run dense (one round,
# nothing pruned): VOC2007 trainval (+ flips) / test, the official code's 12-epoch schedule
# at batch 12, best checkpoint by mAP, and lottery_voc.py's `paper_voc` scope; the ticket
# configs (base: the dense config of their model) set the pruning and the rewind point
# (lottery_voc.py: iteration 600). The leaf adds the model and its 20 classes.
_base_ = [
    '../../_base_/datasets/voc07.py',
    '../../_base_/schedules/voc07_paper_12e.py',
    '../../_base_/lottery_voc.py',
]
default_hooks = dict(checkpoint=dict(save_best='pascal_voc/mAP', rule='greater'))
lottery = dict(rounds=1, keep_ratio=1.0, rewind_iter=None)
