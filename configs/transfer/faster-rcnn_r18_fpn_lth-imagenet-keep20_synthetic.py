# The transfer chain on the embedded synthetic shapes (docs/transfer.md, part 4), detector
# side: the classifier ticket of resnet18_lth-keep20_synthetic-cls.py (its round_1/final.pth:
# values, zeros and BN statistics) goes into the Faster R-CNN R18 backbone of the detection
# quickstart; FPN and heads dense from their initialisation; trained once (one given-ticket
# round, no rewind) with the mask held. Run the classifier config first.
#   mim train lth_mm configs/transfer/resnet18_lth-keep20_synthetic-cls.py --gpus 0
#   mim train lth_mm configs/transfer/faster-rcnn_r18_fpn_lth-imagenet-keep20_synthetic.py \
#       --gpus 0
_base_ = '../quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py'
cls_work_dir = 'work_dirs/resnet18_lth-keep20_synthetic-cls/'
# The dense classifier as the "pretrained" backbone, as the paper's detectors start from
# ImageNet weights (the transferred values overwrite the backbone anyway).
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True,  # the base's init_cfg is None
    type='Pretrained', checkpoint=cls_work_dir + 'round_0/final.pth', prefix='backbone.')))
lottery = dict(rounds=1, keep_ratio=1.0, rewind_epochs=None,
               transfer=dict(
                   _delete_=True,  # the base's transfer is None
                   mode='imagenet', source=cls_work_dir + 'round_1/final.pth'))
