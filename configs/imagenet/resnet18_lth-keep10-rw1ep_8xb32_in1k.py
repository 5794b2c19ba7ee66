# ResNet-18 ImageNet ticket keeping 10% of the prunable weights: the keep-20% ticket's
# recipe (resnet18_lth-keep20-rw1ep_8xb32_in1k.py: mmpretrain's, one-shot, late reset to
# one epoch, the paper's ImageNet scope) at another keep ratio; a source of the paper's
# ImageNet-transfer rows (Tables 1, 2; see configs/transfer/README.md).
_base_ = './resnet18_lth-keep20-rw1ep_8xb32_in1k.py'
lottery = dict(keep_ratio=0.1)
