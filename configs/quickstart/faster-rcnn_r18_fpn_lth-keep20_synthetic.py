# Quickstart, detection: a full lottery experiment on the embedded synthetic shapes (no
# download, CPU): dense Faster R-CNN R18-FPN (round 0), then its magnitude ticket keeping
# 20% of the prunable weights (round 1, one-shot as in lottery_det.py, late reset to half
# an epoch, the end of warm-up), trained from scratch on the demo's 128 px images (generated into
# data/lth_synthetic_128/ on first use), 3 epochs of 100 iterations per round, box mAP on
# the val split. CPU-sized like the demo (_base_/models/faster-rcnn_r18_fpn_synthetic.py):
# about 0.5 s per iteration on 2 cores, 6 minutes in all.
#
#   mim train lth_mm configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py --gpus 0
#   mim test lth_mm configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py --gpus 0 \
#       --checkpoint work_dirs/faster-rcnn_r18_fpn_lth-keep20_synthetic/round_1/final.pth
#
# Other data (e.g. a tiny smoke test): the images keep their generated size, so only the
# folder and the generation parameters change. The train and val datasets share the
# folder, so they need the same `synthetic` values; the evaluator reads its val json:
#   --cfg-options train_dataloader.dataset.data_root=data/tiny/ \
#       val_dataloader.dataset.data_root=data/tiny/ \
#       val_evaluator.ann_file=data/tiny/annotations/instances_val.json \
#       train_dataloader.dataset.synthetic.num_train=2 \
#       val_dataloader.dataset.synthetic.num_train=2 ... (num_val, img_size likewise)
# (`mim test` builds test_dataloader / test_evaluator instead of the val_* ones.)
_base_ = [
    '../_base_/models/faster-rcnn_r18_fpn_synthetic.py',
    '../_base_/datasets/synthetic_detection.py',
    '../_base_/schedules/synthetic_adamw_3e.py',
    '../_base_/lottery_det.py',
]

default_hooks = dict(checkpoint=dict(save_best='coco/bbox_mAP'))

# Late reset at half an epoch (50 of 300 iterations): the end of the 50-iteration warm-up
# (a reset inside it costs AP, Sec. 4.3; lth_mm warns about one).
lottery = dict(rewind_epochs=0.5)
