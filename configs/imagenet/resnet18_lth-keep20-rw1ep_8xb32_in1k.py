# ResNet-18 ImageNet ticket keeping 20% of the prunable weights: the source of the paper's
# ImageNet-transfer rows (Tables 1, 2; see configs/transfer/README.md). mmpretrain's recipe
# unchanged (resnet/resnet18_8xb32_in1k.py: 8x32 batch, 100 epochs, SGD), one-shot (round 0
# dense, round 1 the ticket), late reset to one epoch, and the paper's ImageNet scope: every
# conv weight except the 1x1 shortcuts (downsample), the fc classifier dense. mmpretrain's
# ResNet keeps torchvision's names, so the backbone scope is exactly that rule.
# Turn the ticket into a detector's: tools/transfer.py work_dir/round_1/final.pth TARGET
# --mode imagenet (final.pth holds the trained values with the pruned weights at zero).
_base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py', '../_base_/lottery.py']
lottery = dict(keep_ratio=0.20, prune_scope='backbone', rewind_epochs=1)
