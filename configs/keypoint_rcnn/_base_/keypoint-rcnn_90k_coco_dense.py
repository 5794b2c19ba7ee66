# The paper's Keypoint R-CNN solver on COCO person keypoints for every model of this
# folder, run dense (one round, nothing pruned): 90k iterations at batch 16, a checkpoint
# every 10k iterations (best by keypoint mAP), logs by iteration. The leaf adds the model
# and its learning rate; the ticket configs (base: the dense config of their model) set
# the pruning and the rewind point.
_base_ = [
    './coco_person_keypoints.py',
    './schedule_90k.py',
    'mmdet::_base_/default_runtime.py',
    '../../_base_/lottery_dense.py',
]
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=10000, max_keep_ckpts=2,
                    save_best='coco/keypoints_mAP', rule='greater'))
log_processor = dict(by_epoch=False)
