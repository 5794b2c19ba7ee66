"""Sparse MACs: exact counts on a small net, real mmdet/mmpose models, the tool."""
import os.path as osp

import pytest
import torch
import torch.nn as nn

from lth_mm.complexity import analyze, format_complexity
from lth_mm.pruning import MaskSet, global_magnitude, save_ticket, select_prunable

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.backbone.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.neck = nn.Module()
        self.neck.fc = nn.Linear(16 * 8 * 8, 10)

    def forward(self, x):
        x = self.backbone.conv2(torch.relu(self.backbone.conv1(x)))
        return self.neck.fc(x.flatten(1))


def test_sparse_macs_are_layer_macs_times_density():
    net = _Net()
    g = torch.Generator().manual_seed(0)
    masks = {'backbone.conv1.weight': torch.rand(8, 3, 3, 3, generator=g) < 0.25,
             'neck.fc.weight': torch.rand(10, 1024, generator=g) < 0.5}
    c = analyze(net, masks, shape=(16, 16))
    conv1, conv2, fc = 8 * 3 * 9 * 16 * 16, 16 * 8 * 9 * 8 * 8, 1024 * 10
    assert c.dense_macs == conv1 + conv2 + fc
    d1 = masks['backbone.conv1.weight'].float().mean().item()
    d2 = masks['neck.fc.weight'].float().mean().item()
    assert c.sparse_macs == pytest.approx(conv1 * d1 + conv2 + fc * d2)
    assert c.groups['backbone_base']['dense_macs'] == conv1 + conv2
    assert c.groups['neck']['sparse_macs'] == pytest.approx(fc * d2)
    pruned = sum(int((~m).sum()) for m in masks.values())
    assert c.sparse_params == c.dense_params - pruned
    # without masks: the zeros of the weights
    with torch.no_grad():
        net.backbone.conv1.weight.mul_(masks['backbone.conv1.weight'])
    z = analyze(net, None, shape=(16, 16))
    assert z.sparse_macs == pytest.approx(conv1 * d1 + conv2 + fc)
    with pytest.raises(ValueError, match='another model'):
        analyze(net, {'roi_head.fc.weight': torch.ones(2, dtype=torch.bool)}, shape=(16, 16))


def _ticket(model, keep, path):
    names = select_prunable(model, scope='paper')
    params = dict(model.named_parameters())
    w = {n: params[n].detach() for n in names}
    masks = MaskSet(global_magnitude(w, {n: torch.ones_like(t, dtype=torch.bool)
                                         for n, t in w.items()}, keep))
    save_ticket(str(path), masks, dict(round=1))
    return masks


def test_mask_rcnn_counts_heads_and_lists_roi_align():
    from mmengine.config import Config

    from lth_mm.apis import build_model_from_cfg
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py'))
    torch.manual_seed(0)
    model = build_model_from_cfg(cfg)
    names = select_prunable(model, scope='paper')
    params = dict(model.named_parameters())
    w = {n: params[n].detach() for n in names}
    masks = global_magnitude(w, {n: torch.ones_like(t, dtype=torch.bool)
                                 for n, t in w.items()}, 0.2)
    c = analyze(model, masks, shape=(128, 128))
    for g in ('backbone_base', 'backbone_top', 'neck', 'rpn', 'box_head', 'mask_head'):
        assert c.groups[g]['dense_macs'] > 0, g
    assert any('RoIAlign' in op for op in c.uncounted_ops)
    # at 128x128 the mask head's 100 RoIs dominate the count
    assert 0.05 < c.sparse_macs / c.dense_macs < 0.9
    assert c.groups['box_head']['sparse_macs'] < 0.5 * c.groups['box_head']['dense_macs']
    assert c.dense_macs == sum(g['dense_macs'] for g in c.groups.values())
    assert not c.masked_uncounted
    assert 'RoIAlign' in format_complexity(c)


def test_config_complexity_of_a_pose_ticket(tmp_path):
    from mmengine.config import Config

    from lth_mm.analysis.model_complexity import config_complexity
    from lth_mm.apis import build_model_from_cfg
    cfg_path = osp.join(REPO, 'configs/quickstart/td-hm_res18_lth-keep20_synthetic-64x64.py')
    torch.manual_seed(0)
    _ticket(build_model_from_cfg(Config.fromfile(cfg_path)), 0.2, tmp_path / 't.pth')
    c = config_complexity(cfg_path, ticket=str(tmp_path / 't.pth'))
    out = c.as_dict()  # what --json writes
    assert out['shape'] == [64, 64]  # the codec's input size
    assert 0.05 < out['mac_ratio'] < 0.6
    assert 'keypoint_head' in out['groups'] and 'total' in format_complexity(c)
    assert config_complexity(cfg_path).as_dict()['mac_ratio'] == 1.0  # no ticket: dense
    with pytest.raises(FileNotFoundError, match='does not exist'):
        config_complexity(cfg_path, ticket=str(tmp_path / 'missing.pth'))
