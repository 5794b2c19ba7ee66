"""The lottery engine on real mmdet models: the paper's scope numbers and a short run."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from lth_mm.apis import build_model_from_cfg
from lth_mm.pruning import MaskSet, count_parameters, select_prunable

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = osp.join(REPO, 'configs', 'quickstart', 'mask-rcnn_r18_fpn_lth-keep20_synthetic.py')


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
    from mmengine.registry import RUNNERS
    cfg = Config.fromfile(QUICKSTART)
    synthetic = dict(num_train=4, num_val=2, img_size=96, seed=1)
    data_root = str(tmp_path / 'data') + '/'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = data_root
        loader.dataset.synthetic = synthetic
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.ann_file = data_root + 'annotations/instances_val.json'
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.lottery = dict(rounds=2, keep_ratio=0.2, rewind_iter=1, controls=[])
    cfg.work_dir = str(tmp_path / 'work')
    cfg.default_hooks.logger.interval = 1
    runner = RUNNERS.build(cfg)
    runner.train()

    summary = json.loads((tmp_path / 'work' / 'lottery_summary.json').read_text())
    rows = summary['rounds']
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
