"""The lottery engine on real mmdet models: the paper's scope numbers and a short run."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from lth_mm.apis import build_model_from_cfg
from lth_mm.pruning import MaskSet, count_parameters, select_prunable

from _toy import synthetic_cfg, train_rounds

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = 'configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py'


def _mask_rcnn_r18_coco():
    # mmdet's Mask R-CNN (80 classes, 256-d FPN, 1024-d box fcs) with depth 18.
    return build_model_from_cfg(
        Config.fromfile(osp.join(REPO, 'configs', '_base_', 'models', 'mask-rcnn_r18_fpn.py')))


def test_paper_scope_on_mask_rcnn_r18_gives_table4_sparsity():
    """Paper Table 4: R18 Mask R-CNN, keep 20% of the masked weights -> 78.4% sparsity."""
    model = _mask_rcnn_r18_coco()
    total = count_parameters(model)
    assert total == pytest.approx(31.33e6, rel=0.003)  # 31.33M, as detectron2's R18
    names = select_prunable(model, 'paper')
    params = dict(model.named_parameters())
    covered = sum(params[n].numel() for n in names)
    assert covered / total == pytest.approx(0.980, abs=0.001)
    assert not any('downsample' in n or n.endswith('bias') for n in names)
    for predictor in ('rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight',
                      'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_reg.weight',
                      'roi_head.mask_head.conv_logits.weight'):
        assert predictor in params and predictor not in names
    for included in ('backbone.conv1.weight', 'neck.lateral_convs.0.conv.weight',
                     'neck.fpn_convs.3.conv.weight', 'rpn_head.rpn_conv.weight',
                     'roi_head.bbox_head.shared_fcs.1.weight',
                     'roi_head.mask_head.convs.3.conv.weight',
                     'roi_head.mask_head.upsample.weight'):
        assert included in names
    masks = MaskSet({n: torch.ones(params[n].shape, dtype=torch.bool) for n in names})
    keep = round(0.2 * masks.numel())
    network_sparsity = (masks.numel() - keep) / total
    assert network_sparsity == pytest.approx(0.784, abs=0.001)


def test_short_mask_rcnn_lottery_run_on_synthetic(tmp_path):
    """Two rounds (dense + 80% ticket) of Mask R-CNN R18 through the Runner, evaluated."""
    cfg = synthetic_cfg(QUICKSTART, tmp_path, dict(num_train=4, num_val=2, img_size=96, seed=1),
                        max_epochs=1)
    cfg.lottery = dict(rounds=2, keep_ratio=0.2, rewind_iter=1, controls=[])
    cfg.default_hooks.logger.interval = 1
    _, rows = train_rounds(cfg)
    assert [r['kind'] for r in rows] == ['dense', 'ticket']
    assert {'coco/bbox_mAP', 'coco/segm_mAP'} <= set(rows[1]['metrics'])
    assert rows[1]['prunable_sparsity'] == pytest.approx(0.8, abs=1e-4)
    assert rows[1]['zero_fraction_of_prunable'] >= 0.8 - 1e-4

    # A round checkpoint loads into a plain mmdet model with strict=True.
    ckpt = torch.load(tmp_path / 'work' / 'round_1' / 'final.pth', weights_only=False)
    plain = build_model_from_cfg(cfg)
    plain.load_state_dict(ckpt['state_dict'], strict=True)
    masks = MaskSet.from_state_dict(ckpt['lth_mm']['masks'])
    params = dict(plain.named_parameters())
    for n, m in masks.items():
        assert torch.all(params[n][~m] == 0)


def test_iteration_based_mmdet_run_with_infinite_sampler_and_mmdet_hooks(tmp_path):
    """mmdet's iteration-based recipe (InfiniteSampler + AspectRatioBatchSampler, as in
    `ms-90k` configs) with YOLOX-style EMA and PipelineSwitchHook: every round trains its
    full length from a fresh stream, the stage-1 pipeline comes back, masks hold."""
    cfg = synthetic_cfg('configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py',
                        tmp_path, dict(num_train=6, num_val=2, img_size=96, seed=1))
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.train_dataloader.batch_sampler = dict(type='AspectRatioBatchSampler')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=4, val_interval=4)
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0,
                                end=2)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=4, by_epoch=False)
    stage1 = cfg.train_dataloader.dataset.pipeline
    cfg.custom_hooks = [
        dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.01, priority=49),
        dict(type='PipelineSwitchHook', switch_epoch=0, switch_pipeline=stage1),
    ]
    # 6 images / batch 2 = 3 iterations per epoch (InfiniteSampler's length says 6)
    cfg.lottery = dict(rounds=2, keep_ratio=0.2, rewind_epochs=1, controls=[])
    _, rows = train_rounds(cfg)
    assert [r['iters'] for r in rows] == [4, 4]
    assert rows[1]['rewind_iter'] == 3
    assert 'coco/bbox_mAP' in rows[1]['metrics']
    ckpt = torch.load(tmp_path / 'work' / 'round_1' / 'final.pth', weights_only=False)
    masks = MaskSet.from_state_dict(ckpt['lth_mm']['masks'])
    for key in ('state_dict', 'ema_state_dict'):
        for n, m in masks.items():
            assert torch.all(ckpt[key][n if key == 'state_dict' else f'module.{n}'][~m] == 0)
