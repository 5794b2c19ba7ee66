# Table 5 (mask transfer, Mehta et al. 2019): torchvision's dense ResNet-50 pruned by
# magnitude to keep 50% with ONE threshold over all prunable weights of the model (the
# paper code's rule; threshold='backbone' prunes exactly 50% of the backbone), the
# zeros applied to the backbone only, the pretrained values kept; COCO instance segmentation
# (mask_rcnn/mask-rcnn_r50_fpn_lth-dense_1x_coco.py).
# Put torchvision's file at the source path (the config's init_cfg
# `torchvision://resnet50` downloads the same weights into ~/.cache/torch/hub/checkpoints/).
_base_ = '../mask_rcnn/mask-rcnn_r50_fpn_lth-dense_1x_coco.py'
lottery = dict(rounds=1, keep_ratio=1.0, rewind_iter=None, rewind_epochs=None,
               transfer=dict(
                   _delete_=True,  # the base's transfer is None
                   mode='mask',
                   source='checkpoints/resnet50-0676ba61.pth',
                   keep_ratio=0.5, threshold='model'))
