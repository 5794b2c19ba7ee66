# Top-down heatmap ResNet-18 on COCO keypoints: lottery ticket keeping 50% of the prunable
# weights (one-shot, late reset to 2 epochs).
_base_ = './td-hm_res18_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py'
lottery = dict(keep_ratio=0.5)
