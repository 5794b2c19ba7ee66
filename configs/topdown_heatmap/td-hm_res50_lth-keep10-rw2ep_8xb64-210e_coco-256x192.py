# Top-down heatmap ResNet-50 on COCO keypoints: lottery ticket keeping 10% of the prunable
# weights (one-shot, late reset to 2 epochs).
_base_ = './td-hm_res50_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py'
lottery = dict(keep_ratio=0.1)
