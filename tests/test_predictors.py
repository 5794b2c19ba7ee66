"""Final predictors by structure (lth_mm.pruning.predictors) on tiny builds of the recipes
mmdet, mmpose and mmpretrain ship: RTMDet-tiny, DINO, YOLOX-s, Cascade Mask R-CNN,
RTMPose-t, a ResNet and a ViT classifier, plus the paper's R-CNN family (whose predictors
the name rules already gave: the paper's sparsities must not move).

Models are built from the libraries' own configs (init_cfg stripped: nothing is
downloaded), some made narrower or shallower to stay fast; the predictors are what the
graph walk finds, never the name rules (``method == 'graph'``).
"""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from lth_mm.apis import build_model_from_cfg
from lth_mm.pruning import collapsed_tensors, global_magnitude, lamp, select_prunable
from lth_mm.pruning.predictors import first_layers
from lth_mm.pruning.scope import explain_scope, predictor_info
from lth_mm.pruning.scope_table import format_scope_short, scope_table

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _build(path, **edits):
    if '::' in path:  # a config of an installed package: mmdet::, mmpose::, mmpretrain::
        from mmengine.hub import get_config
        cfg = get_config(path)
    else:
        cfg = Config.fromfile(osp.join(REPO, path))
    for key, value in edits.items():  # 'model.backbone.depth' -> value
        node = cfg
        *parents, last = key.split('.')
        for p in parents:
            node = node[p]
        node[last] = value
    torch.manual_seed(0)
    return build_model_from_cfg(cfg)


def _graph(model):
    info = predictor_info(model)
    assert info.method == 'graph', info.detail
    return info


R18_FPN = {'model.backbone.depth': 18, 'model.neck.in_channels': [64, 128, 256, 512]}

RECIPES = {
    'rtmdet_tiny': (
        'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', {},
        [f'bbox_head.rtm_{b}.{i}.weight' for b in ('cls', 'reg') for i in range(3)]),
    'yolox_s': (
        'mmdet::yolox/yolox_s_8xb8-300e_coco.py', {},
        [f'bbox_head.multi_level_conv_{b}.{i}.weight' for b in ('cls', 'reg', 'obj')
         for i in range(3)]),
    'cascade_mask_rcnn': (
        'mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py', R18_FPN,
        ['rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight'] +
        [f'roi_head.bbox_head.{s}.fc_{b}.weight' for s in range(3) for b in ('cls', 'reg')] +
        [f'roi_head.mask_head.{s}.conv_logits.weight' for s in range(3)]),
    'dino': (
        'mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py',
        {'model.backbone.depth': 18, 'model.neck.in_channels': [128, 256, 512],
         'model.encoder.num_layers': 2, 'model.decoder.num_layers': 2},
        # one cls and one reg branch per decoder layer, plus the encoder's (two-stage)
        [f'bbox_head.cls_branches.{i}.weight' for i in range(3)] +
        [f'bbox_head.reg_branches.{i}.4.weight' for i in range(3)]),
    'rtmpose_t': (
        'mmpose::body_2d_keypoint/rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py', {},
        ['head.cls_x.weight', 'head.cls_y.weight']),
    'resnet18_cls': ('mmpretrain::resnet/resnet18_8xb32_in1k.py', {}, ['head.fc.weight']),
    'vit_cls': (
        'mmpretrain::vision_transformer/vit-base-p16_64xb64_in1k.py',
        {'model.backbone.arch': dict(embed_dims=64, num_layers=2, num_heads=2,
                                     feedforward_channels=128),
         'model.backbone.img_size': 64, 'model.head.in_channels': 64},
        ['head.layers.head.weight']),
}


@pytest.fixture(scope='module', params=sorted(RECIPES))
def recipe(request):
    path, edits, expected = RECIPES[request.param]
    if path.startswith('mmpose::'):
        pytest.importorskip('mmpose')
    if path.startswith('mmpretrain::'):
        pytest.importorskip('mmpretrain')
    return request.param, _build(path, **edits), expected


def test_predictors_of_each_recipe_are_found_by_structure(recipe):
    name, model, expected = recipe
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    info = _graph(model)
    assert info.names == expected, name
    # the probe changes neither the model (BN statistics, uninitialised parameters, NaN
    # under torch's deterministic mode, included) nor the random stream
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0, equal_nan=True, msg=k)
    assert torch.equal(rng, torch.get_rng_state())
    selected = set(select_prunable(model))
    assert not selected & set(expected)
    assert explain_scope(model)['predictor'] == expected


def test_rtmpose_prunes_its_hidden_final_layer_and_keeps_the_simcc_outputs():
    pytest.importorskip('mmpose')
    path, edits, _ = RECIPES['rtmpose_t']
    model = _build(path, **edits)
    selected = set(select_prunable(model))
    assert 'head.final_layer.weight' in selected  # a hidden 7x7 conv, named like a predictor
    assert {'head.cls_x.weight', 'head.cls_y.weight'}.isdisjoint(selected)


def test_dino_offset_generators_dense_and_the_table_names_kinds():
    path, edits, expected = RECIPES['dino']
    model = _build(path, **edits)
    reasons = explain_scope(model)
    offsets = reasons['offset']
    # 2 encoder + 2 decoder layers, each one deformable attention with two generators
    assert len(offsets) == 8
    assert all(n.endswith(('sampling_offsets.weight', 'attention_weights.weight'))
               for n in offsets)
    assert not set(offsets) & set(select_prunable(model))
    assert set(offsets) <= set(select_prunable(model, scope='all'))
    table = scope_table(model)
    kinds = {r['name']: r['kind'] for r in table['rows']}
    assert {kinds[n] for n in offsets} == {'offset'}
    assert kinds['bbox_head.cls_branches.0.weight'] == 'linear'
    assert kinds['encoder.layers.0.self_attn.value_proj.weight'] == 'attention'
    assert kinds['backbone.conv1.weight'] == 'conv'
    short = format_scope_short(table)
    assert short[0].startswith('scope: ') and 'offset 0 pruned/8 dense' in short[0]
    assert any('final predictors found by graph' in line for line in short)


def test_rtmdet_depthwise_kind():
    path, edits, _ = RECIPES['rtmdet_tiny']
    kinds = {r['name']: r['kind'] for r in scope_table(_build(path, **edits))['rows']}
    assert kinds['backbone.stage1.1.blocks.0.conv2.depthwise_conv.conv.weight'] == 'depthwise'


def test_the_paper_r_cnn_family_keeps_its_name_rule_predictors():
    """The structural rule gives exactly the predictors the name rules gave on the paper's
    models, so Table 4's 78.41% / 79.41% and Table 3's rows stay as they were."""
    cases = {
        'configs/mask_rcnn/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py':
            ['rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight',
             'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_reg.weight',
             'roi_head.mask_head.conv_logits.weight'],
        'configs/pascal_voc/faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py':
            ['rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight',
             'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_reg.weight'],
        'configs/keypoint_rcnn/keypoint-rcnn_r18_fpn_lth-keep20-rw3535it_90k_coco.py':
            ['rpn_head.rpn_cls.weight', 'rpn_head.rpn_reg.weight',
             'roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_reg.weight',
             'roi_head.keypoint_head.kpt_logits.weight'],
    }
    for path, expected in cases.items():
        assert _graph(build_model_from_cfg(Config.fromfile(osp.join(REPO, path)))).names == \
            expected, path


def test_cascade_collapse_is_named_and_lamp_avoids_it():
    """R50 Cascade Mask R-CNN at its initialisation, keep 0.2: global magnitude empties
    the three 12.8M-weight shared_fcs.0 (fan-in scaled init: the smallest weights of the
    model); LAMP and a 1% floor keep every tensor alive, with the same total."""
    from lth_mm.pruning import compute_masks, floor_count
    from mmengine.logging import MMLogger
    model = _build(RECIPES['cascade_mask_rcnn'][0])
    MMLogger.get_current_instance().setLevel('WARNING')  # init_weights' per-tensor lines
    model.init_weights()
    params = dict(model.named_parameters())
    w = {n: params[n].detach() for n in select_prunable(model)}
    ones = {n: torch.ones_like(t, dtype=torch.bool) for n, t in w.items()}
    collapsed = collapsed_tensors(global_magnitude(w, ones, 0.2))
    assert [(n, d) for n, d, _ in collapsed] == [
        (f'roi_head.bbox_head.{s}.shared_fcs.0.weight', 0.0) for s in range(3)]
    assert collapsed_tensors(lamp(w, ones, 0.2)) == []
    floored = compute_masks('global_magnitude', w, ones, 0.2, min_density=0.01)
    assert all(int(floored[n].sum()) >= floor_count(0.01, t.numel()) for n, t in w.items())
    assert [n for n, _, _ in collapsed_tensors(floored)] == []


class _TwoOutputs(nn.Module):
    """A hidden conv named like a predictor, an output conv named like a hidden one."""

    def __init__(self):
        super().__init__()
        self.final_layer = nn.Conv2d(3, 4, 3)
        self.hidden = nn.Conv2d(4, 4, 1)
        self.skip = nn.Linear(3, 2)

    def forward(self, x):
        y = self.hidden(torch.relu(self.final_layer(x)))
        return y.mean((2, 3)) + self.skip(x.mean((2, 3))).sum(1, keepdim=True), y.sigmoid()


def test_graph_walk_stops_at_the_first_conv_like_layer():
    model = _TwoOutputs()
    produced, handles = {}, []
    for name in ('final_layer', 'hidden', 'skip'):
        handles.append(getattr(model, name).register_forward_hook(
            lambda m, i, o, name=name: produced.__setitem__(o.grad_fn, name)))
    outs = model(torch.randn(1, 3, 8, 8))
    assert sorted(first_layers(list(outs), produced)) == ['hidden', 'skip']


def test_models_without_a_readable_structure_fall_back_to_names(caplog):
    model = nn.Sequential()
    model.add_module('conv', nn.Conv2d(3, 4, 3))
    model.add_module('fc_cls', nn.Linear(4, 3))
    with caplog.at_level('WARNING', logger='lth_mm'):
        info = predictor_info(model)
    assert info.method == 'names' and info.names == ['fc_cls.weight']
    assert 'NAME rules' in caplog.text


def test_predictors_do_not_depend_on_the_deterministic_flag():
    """randomness=dict(deterministic=True) sets torch's global flag; DINO's loss then raised
    inside the probe and its encoder branches were missed (found in the full suite)."""
    from lth_mm.pruning.predictors import _CACHE
    path, edits, expected = RECIPES['dino']
    model = _build(path, **edits)
    _CACHE.clear()  # the structure may be cached from the test above
    torch.use_deterministic_algorithms(True)
    try:
        info = _graph(model)
        assert torch.are_deterministic_algorithms_enabled()  # the caller's flag is back
    finally:
        torch.use_deterministic_algorithms(False)
    assert info.names == expected
