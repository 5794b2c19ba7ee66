# The transfer chain on the embedded synthetic shapes (docs/transfer.md, part 4), detector
# side: the classifier ticket of resnet18-w32_lth-keep20_synthetic-cls.py (its
# round_1/final.pth: values, zeros and BN statistics) goes into the backbone of the demo's
# Mask R-CNN (configs/demo/, same narrow ResNet-18); FPN and heads dense from their
# initialisation; trained once with the demo's schedule (one given-ticket round, no rewind)
# with the mask held. tools/benchmark/miniature.py runs it beside the direct tickets.
#   mim train lth_mm configs/transfer/resnet18-w32_lth-keep20_synthetic-cls.py --gpus 0
#   mim train lth_mm configs/transfer/mask-rcnn_r18-w32_fpn_lth-imagenet-keep20_synthetic-easy.py \
#       --gpus 0
_base_ = '../demo/mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py'
cls_work_dir = 'work_dirs/resnet18-w32_lth-keep20_synthetic-cls/'
# The dense classifier as the "pretrained" backbone, as the paper's detectors start from
# ImageNet weights (the transferred values overwrite the backbone anyway).
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True,  # the base's init_cfg is None
    type='Pretrained', checkpoint=cls_work_dir + 'round_0/final.pth', prefix='backbone.')))
lottery = dict(rounds=1, keep_ratio=1.0, rewind_epochs=None, controls=[],
               transfer=dict(
                   _delete_=True,  # the base's transfer is None
                   mode='imagenet', source=cls_work_dir + 'round_1/final.pth'))
# One round with a fixed mask: no early-bird tracking (it follows round 0's pruning).
custom_hooks = [dict(type='EvalArtifactsHook'), dict(type='ValLossHook', interval=1,
                                                     max_batches=8)]
