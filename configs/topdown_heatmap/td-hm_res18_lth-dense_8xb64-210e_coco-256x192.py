# Dense baseline of Top-down heatmap ResNet-18 on COCO keypoints: one round, nothing
# pruned. A plain mmpose training run through the LotteryRunner (same schedule,
# checkpoints and metrics; outputs under round_0/ plus lottery_summary.json), the
# reference for the tickets of this folder.
_base_ = './td-hm_res18_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_epochs=None)
