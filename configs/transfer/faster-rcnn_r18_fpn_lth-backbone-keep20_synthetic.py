# The direct counterpart of faster-rcnn_r18_fpn_lth-imagenet-keep20_synthetic.py: the same
# detector started from the same dense classifier backbone, pruned on the detection task
# itself (one-shot, the quickstart's late reset) at the same sparsity: 80% of the backbone
# convs (prune_scope='backbone'; FPN and heads dense, as in the transferred ticket). Round 0
# is the dense detector, round 1 the direct ticket.
_base_ = '../quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py'
cls_work_dir = 'work_dirs/resnet18_lth-keep20_synthetic-cls/'
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True,  # the base's init_cfg is None
    type='Pretrained', checkpoint=cls_work_dir + 'round_0/final.pth', prefix='backbone.')))
lottery = dict(prune_scope='backbone')
