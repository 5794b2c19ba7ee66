# Dense baseline of Faster R-CNN R50-FPN 1x on COCO: one round, nothing pruned. A plain
# mmdet training run through the LotteryRunner (same schedule, checkpoints and metrics;
# outputs under round_0/ plus lottery_summary.json), the reference for the tickets of this
# folder.
_base_ = './faster-rcnn_r50_fpn_lth-keep20-rw1ep_1x_coco.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_epochs=None)
