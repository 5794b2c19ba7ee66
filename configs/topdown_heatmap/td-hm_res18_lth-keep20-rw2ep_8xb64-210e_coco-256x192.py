# Top-down heatmap ResNet-18 (SimpleBaseline), COCO keypoints, 256x192, 210 epochs: the
# paper's direct-pruning ticket, keeping 20% of the prunable weights, one-shot, late reset
# to 2 epochs (past mmpose's 500-iteration warm-up; lottery_pose.py's rewind point).
_base_ = './td-hm_res18_lth-dense_8xb64-210e_coco-256x192.py'
lottery = dict(rounds=2, keep_ratio=0.2, rewind_epochs=2)
