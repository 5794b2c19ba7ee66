"""The pruning scope (lth_mm.pruning.scope): conv-like weights by structure, what the
`paper` rule leaves dense and why (explain_scope), and the official VOC code's Table 3
groups on the paper's R18-C4 Faster R-CNN.

Real models from mmdet's own configs: a DCN ResNet (dcn/), a Swin backbone (swin/) and
our R18-C4 VOC model; init_cfg stripped, nothing downloaded.
"""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from lth_mm.apis import build_model_from_cfg, strip_init_cfg
from lth_mm.pruning import ScopeError, count_parameters, select_prunable
from lth_mm.pruning.scope import REASONS, conv_like_weights, explain_scope

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
C4 = osp.join(REPO, 'configs/pascal_voc/faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py')


def _backbone(cfg_path):
    """The backbone of an mmdet config, built without weights."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    import mmdet
    cfg = Config.fromfile(osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', cfg_path))
    return MODELS.build(strip_init_cfg(cfg.model.backbone.to_dict()))


@pytest.fixture(scope='module')
def c4():
    return build_model_from_cfg(Config.fromfile(C4))


def test_dcn_resnet_prunes_deformable_convs():
    mmcv_ops = pytest.importorskip('mmcv.ops')
    model = _backbone('dcn/faster-rcnn_r50-dconv-c3-c5_fpn_1x_coco.py')
    dcn = {f'{n}.weight' for n, m in model.named_modules()
           if isinstance(m, mmcv_ops.DeformConv2d)}
    # mmdet's DCN config: conv2 of every block of res3-res5 (4 + 6 + 3 blocks).
    assert len(dcn) == 13
    assert not any(isinstance(m, nn.Conv2d) for n, m in model.named_modules()
                   if f'{n}.weight' in dcn), 'DCN is not an nn.Conv2d: the case to cover'
    selected = set(select_prunable(model))
    assert dcn <= selected
    reasons = explain_scope(model)
    assert sorted(reasons['shortcut']) == [f'layer{i}.0.downsample.0.weight'
                                           for i in range(1, 5)]
    # each DCN's offset generator (zero-initialised, predicts sampling locations) is dense
    assert sorted(reasons['offset']) == sorted(n[:-len('weight')] + 'conv_offset.weight'
                                               for n in dcn)
    assert set(reasons['offset']) <= set(select_prunable(model, scope='all'))
    # Every conv-like weight is either selected or left dense for a stated reason.
    left = {n for names in reasons.values() for n in names}
    assert {n for n, _ in conv_like_weights(model)} == selected | left
    assert not reasons['not_conv_like']


def test_swin_downsample_linear_and_attention_are_pruned():
    model = _backbone('swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py')
    selected = set(select_prunable(model))
    merging = [f'stages.{i}.downsample.reduction.weight' for i in range(3)]
    assert set(merging) <= selected  # a linear layer under `downsample`, not a shortcut
    assert 'stages.0.blocks.0.attn.w_msa.qkv.weight' in selected
    assert 'stages.0.blocks.0.ffn.layers.0.0.weight' in selected
    assert 'patch_embed.projection.weight' in selected
    reasons = explain_scope(model)
    assert not reasons['shortcut'] and not reasons['predictor']
    assert reasons['not_conv_like'] and all(
        n.endswith('relative_position_bias_table') for n in reasons['not_conv_like'])


class _Block(nn.Module):
    """A residual-style block whose `downsample` branch holds a 3x3 stride-2 conv, plus
    a 1x1 projection shortcut, attention and a custom conv class."""

    class MyConv(nn.Module):  # a conv that does not subclass nn.Conv2d
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(4, 4, 3, 3))

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 3)
        self.downsample = nn.Sequential(nn.Conv2d(8, 8, 3, stride=2), nn.BatchNorm2d(8))
        self.shortcut = nn.Sequential(nn.Conv2d(4, 8, 1), nn.BatchNorm2d(8))
        self.attn = nn.MultiheadAttention(8, 2)
        self.deform = self.MyConv()
        self.embed = nn.Embedding(10, 8)
        self.fc_cls = nn.Linear(8, 3)


def test_structural_rule_on_a_hand_made_block():
    model = _Block()
    selected = select_prunable(model)
    assert selected == ['conv.weight', 'downsample.0.weight', 'attn.in_proj_weight',
                        'attn.out_proj.weight', 'deform.weight']
    reasons = explain_scope(model)
    assert reasons['shortcut'] == ['shortcut.0.weight']
    assert reasons['predictor'] == ['fc_cls.weight']
    assert reasons['not_conv_like'] == ['embed.weight']
    assert list(reasons) == list(REASONS)
    everything = select_prunable(model, scope='all')
    assert {'shortcut.0.weight', 'fc_cls.weight'} <= set(everything)
    assert 'embed.weight' not in everything
    assert 'fc_cls.weight' in select_prunable(model, scope='paper_voc')
    assert 'shortcut.0.weight' not in select_prunable(model, scope='paper_voc')


def test_explain_scope_reasons_for_filters(c4):
    reasons = explain_scope(c4, 'paper', groups=['rpn'], exclude=r'rpn_conv')
    assert reasons['predictor'] == ['rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight',
                                    'roi_head.bbox_head.fc_cls.weight',
                                    'roi_head.bbox_head.fc_reg.weight']
    assert reasons['excluded'] == ['rpn_head.rpn_conv.weight']
    assert 'backbone.conv1.weight' in reasons['outside_groups']
    with pytest.raises(ScopeError, match='paper_voc'):
        select_prunable(c4, 'paper', groups=['predictors'])
    with pytest.raises(ScopeError, match='prune_scope'):
        select_prunable(c4, 'nope')


def _coverage(model, groups):
    params = dict(model.named_parameters())
    names = select_prunable(model, 'paper_voc', groups)
    return names, sum(params[n].numel() for n in names)


def test_table3_groups_select_what_the_official_code_selected(c4):
    """Paper Table 3 on the R18-C4 model: base+top at keep 20% is 70.66% network sparsity
    (we must be within 0.5 points); RPN = conv + its 1x1 predictors; "Box, Cls head" =
    all four final predictors (RPN's included); All = every conv/fc but the shortcuts."""
    total = count_parameters(c4)
    assert total == pytest.approx(12.43e6, rel=0.01)  # faster-rcnn.pytorch R18: ~12.4M
    names, n = _coverage(c4, ['backbone_base', 'backbone_top'])
    pruned = n - int(round(0.2 * n))
    assert 100 * pruned / total == pytest.approx(70.66, abs=0.5)
    assert all(x.startswith(('backbone.', 'roi_head.shared_head.')) for x in names)
    rpn, _ = _coverage(c4, ['rpn'])
    assert rpn == ['rpn_head.rpn_conv.weight', 'rpn_head.rpn_cls.weight',
                   'rpn_head.rpn_reg.weight']
    box, _ = _coverage(c4, ['box_cls_head'])
    assert box == ['rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight',
                   'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_reg.weight']
    everything, n_all = _coverage(c4, None)
    assert set(everything) == set(names) | set(rpn) | set(box)
    # The paper's nominal 'All' is 78.94% (0.8 x 98.68%, RPN predictors counted twice).
    assert 100 * (n_all - int(round(0.2 * n_all))) / total == pytest.approx(78.94, abs=0.5)
    assert explain_scope(c4, 'paper_voc')['shortcut'] == [
        'backbone.layer2.0.downsample.0.weight', 'backbone.layer3.0.downsample.0.weight',
        'roi_head.shared_head.layer4.0.downsample.0.weight']
