# Table 5 (mask transfer, Mehta et al. 2019), COCO detection:
# torchvision's dense ResNet-50 pruned by magnitude with ONE threshold over all
# prunable weights of the model (the paper code's rule; threshold='backbone' would
# prune exactly 1 - keep_ratio of the backbone), the zeros applied to the backbone
# only, the pretrained values kept; the dense model's recipe, one round, mask held, no
# rewind. The leaf configs set `lottery.transfer.keep_ratio`.
# Put torchvision's file at the source path (the config's init_cfg
# `torchvision://resnet50` downloads the same weights into ~/.cache/torch/hub/checkpoints/).
_base_ = '../../faster_rcnn/faster-rcnn_r50_fpn_lth-dense_1x_coco.py'
lottery = dict(transfer=dict(_delete_=True,  # the dense config's transfer is None
                             mode='mask', source='checkpoints/resnet50-0676ba61.pth',
                             threshold='model'))
