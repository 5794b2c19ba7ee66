# Dense baseline of Faster R-CNN R18-FPN on Pascal VOC 07+12: one round, nothing pruned. A
# plain mmdet training run through the LotteryRunner (same schedule, checkpoints and
# metrics; outputs under round_0/ plus lottery_summary.json), the reference for the
# tickets of this folder.
_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw600it_1x_voc0712.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_epochs=None)
