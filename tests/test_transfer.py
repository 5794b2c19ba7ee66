# Copyright (c) lth_mm authors. All rights reserved.
"""Ticket transfer: each mode, each source format, bad input, the tool and a training run.

Fast tests use the toy model (``backbone.conv1/bn1/conv2``, ``head.fc1``, ``head.fc_cls``);
one test runs the issue's acceptance case on real models: an mmpretrain ResNet-18 checkpoint
with zeroed convs into the Faster R-CNN R18 detector through ``tools/transfer.py``.
"""
import os
import os.path as osp

import pytest
import torch
from _toy import LTHToyNet, build_runner, ticket_masks, toy_cfg
from lth_mm.pruning import MaskSet, load_ticket, save_ticket, select_prunable
from lth_mm.transfer import TransferError, build_transfer_ticket

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
BACKBONE = ('backbone.conv1.weight', 'backbone.conv2.weight')


def _target():
    torch.manual_seed(0)
    model = LTHToyNet()
    return model, select_prunable(model)


def _classifier_state(seed=1, sparsity=0.7):
    """A toy classifier's backbone with pruned (zero) convs, bare torchvision-style names,
    plus its fc (which must be dropped) and trained-looking BN statistics."""
    torch.manual_seed(seed)
    src = LTHToyNet()
    state = {k[len('backbone.'):]: v.clone() for k, v in src.state_dict().items()
             if k.startswith('backbone.')}
    g = torch.Generator().manual_seed(seed)
    for k in ('conv1.weight', 'conv2.weight'):
        state[k] *= (torch.rand(state[k].shape, generator=g) > sparsity).float()
    state['bn1.running_mean'] = torch.arange(8.)
    state['fc.weight'], state['fc.bias'] = torch.randn(10, 16), torch.zeros(10)
    return state


def _write(path, obj):
    torch.save(obj, path)
    return str(path)


# One writer per source format of the issue; each yields the same classifier.
FORMATS = {
    'torchvision': lambda s: s,
    'official_imagenet_ticket': lambda s: {'state_dict': {'module.' + k: v
                                                          for k, v in s.items()}},
    'open_lth': lambda s: {'model.' + k: v for k, v in s.items()},
    'mmpretrain': lambda s: {'meta': {'epoch': 3}, 'state_dict': {
        ('head.' + k if k.startswith('fc.') else 'backbone.' + k): v for k, v in s.items()}},
    'mmdet': lambda s: {'meta': {}, 'state_dict': {
        **{'backbone.' + k: v for k, v in s.items() if not k.startswith('fc.')},
        'neck.conv.weight': torch.ones(2, 2)}},
}


@pytest.mark.parametrize('fmt', sorted(FORMATS))
def test_imagenet_mode_every_source_format(tmp_path, fmt):
    state = _classifier_state()
    path = _write(tmp_path / 'src.pth', FORMATS[fmt](state))
    model, names = _target()
    ticket = build_transfer_ticket(model, names, 'imagenet', path)
    assert ticket.masks.names() == names
    for n in BACKBONE:  # backbone mask = the source's non-zeros
        assert torch.equal(ticket.masks[n], state[n[len('backbone.'):]] != 0)
        assert torch.equal(ticket.values[n], state[n[len('backbone.'):]])
    assert bool(ticket.masks['head.fc1.weight'].all())  # the rest dense
    assert torch.equal(ticket.values['backbone.bn1.running_mean'], torch.arange(8.))
    assert not any(k.startswith(('head.', 'fc.', 'neck.')) for k in ticket.values)
    assert ticket.meta['mode'] == 'imagenet'
    kept = sum(int((state[n[9:]] != 0).sum()) for n in BACKBONE)
    total = sum(state[n[9:]].numel() for n in BACKBONE)
    assert ticket.meta['backbone_sparsity'] == pytest.approx(1 - kept / total)


def test_imagenet_mode_from_lth_mm_ticket_with_values(tmp_path):
    state = _classifier_state()
    values = {'backbone.' + k: v for k, v in state.items() if not k.startswith('fc.')}
    masks = MaskSet({n: values[n] != 0 for n in BACKBONE})
    save_ticket(str(tmp_path / 't.pth'), masks, {}, values=values)
    model, names = _target()
    ticket = build_transfer_ticket(model, names, 'imagenet', str(tmp_path / 't.pth'))
    for n in BACKBONE:
        assert torch.equal(ticket.masks[n], masks[n])
    # a mask-only ticket has no values to carry: one clear error
    save_ticket(str(tmp_path / 'm.pth'), masks, {})
    with pytest.raises(TransferError, match='without values.*final.pth'):
        build_transfer_ticket(model, names, 'imagenet', str(tmp_path / 'm.pth'))


@pytest.mark.parametrize('threshold', ['model', 'backbone'])
def test_mask_mode_thresholds(tmp_path, threshold):
    state = _classifier_state(sparsity=0.0)  # dense pretrained weights
    path = _write(tmp_path / 'dense.pth', state)
    model, names = _target()
    ticket = build_transfer_ticket(model, names, 'mask', path, keep_ratio=0.3,
                                   threshold=threshold)
    assert bool(ticket.masks['head.fc1.weight'].all())  # zeros applied to the backbone only
    pre = torch.cat([state[n[9:]].abs().flatten() for n in BACKBONE])
    kept = torch.cat([ticket.masks[n].flatten() for n in BACKBONE])
    assert pre[kept].min() >= pre[~kept].max()  # magnitude order of the pretrained values
    assert torch.equal(ticket.values['backbone.conv2.weight'], state['conv2.weight'])
    if threshold == 'backbone':
        assert ticket.meta['backbone_sparsity'] == pytest.approx(0.7, abs=1e-3)
    else:  # one threshold with the head's (init) weights: another backbone sparsity
        weights = torch.cat([pre, model.head.fc1.weight.detach().abs().flatten()])
        k = round(0.3 * weights.numel())
        thr = weights.topk(k).values[-1]
        assert ticket.meta['backbone_sparsity'] == pytest.approx(
            float((pre < thr).float().mean()), abs=2e-3)
        assert abs(ticket.meta['backbone_sparsity'] - 0.7) > 0.01


def test_task_mode_shared_tensors_only(tmp_path):
    src_model, names = _target()
    g = torch.Generator().manual_seed(5)
    masks = MaskSet({n: torch.rand(dict(src_model.named_parameters())[n].shape,
                                   generator=g) > 0.5 for n in names})
    save_ticket(str(tmp_path / 'det.pth'), masks, {})
    # the target "task" shares the backbone, its head has another shape (dense)
    torch.manual_seed(1)
    target = LTHToyNet()
    target.head.fc1 = torch.nn.Linear(16 * 16, 7)
    tnames = select_prunable(target)
    with pytest.raises(TransferError, match='covers only 40.6%'):  # backbone only: partial
        build_transfer_ticket(target, tnames, 'task', str(tmp_path / 'det.pth'))
    ticket = build_transfer_ticket(target, tnames, 'task', str(tmp_path / 'det.pth'),
                                   allow_partial=True)
    assert ticket.meta['coverage'] == pytest.approx((72 + 1152) / (72 + 1152 + 7 * 256))
    assert ticket.values is None
    for n in BACKBONE:
        assert torch.equal(ticket.masks[n], masks[n])
    assert bool(ticket.masks['head.fc1.weight'].all())
    assert ticket.meta['matched_prunable'] == 2


# ----------------------------------------------------------------------- bad input
def test_bad_input_is_one_clear_error(tmp_path):
    model, names = _target()
    state = _classifier_state()
    path = _write(tmp_path / 'src.pth', state)
    with pytest.raises(TransferError, match=r'keep_ratio must be in \(0, 1\]'):
        build_transfer_ticket(model, names, 'mask', path, keep_ratio=1.5)
    with pytest.raises(TransferError, match='give keep_ratio'):
        build_transfer_ticket(model, names, 'mask', path)
    with pytest.raises(TransferError, match="mode='mask' only"):
        build_transfer_ticket(model, names, 'imagenet', path, keep_ratio=0.5)
    with pytest.raises(TransferError, match='mode must be one of'):
        build_transfer_ticket(model, names, 'weights', path)
    with pytest.raises(TransferError, match='does not exist'):
        build_transfer_ticket(model, names, 'imagenet', str(tmp_path / 'nope.pth'))
    # no zeros in imagenet mode: points to mode='mask'
    dense = _write(tmp_path / 'dense.pth', _classifier_state(sparsity=0.0))
    with pytest.raises(TransferError, match="use mode='mask'"):
        build_transfer_ticket(model, names, 'imagenet', dense)
    # a deeper/wider network (like an R50 ticket into an R18 detector): shapes listed
    wide = dict(state, **{'conv2.weight': torch.ones(32, 8, 3, 3)})
    with pytest.raises(TransferError, match=r'shape mismatch.*conv2\.weight.*\(32, 8, 3, 3\)'):
        build_transfer_ticket(model, names, 'imagenet', _write(tmp_path / 'w.pth', wide))
    # names that do not match: the missing and the unused names are listed
    other = {k.replace('conv', 'c'): v for k, v in state.items()}
    with pytest.raises(TransferError, match=r'covers 0 of the 2.*missing.*unused'):
        build_transfer_ticket(model, names, 'imagenet', _write(tmp_path / 'o.pth', other))
    # task mode with nothing shared
    save_ticket(str(tmp_path / 'pose.pth'),
                MaskSet({'head.final_conv.weight': torch.ones(2, 2, dtype=torch.bool)}), {})
    with pytest.raises(TransferError, match='share no prunable tensor'):
        build_transfer_ticket(model, names, 'task', str(tmp_path / 'pose.pth'))
    with pytest.raises(TransferError, match='holds no tensors'):
        build_transfer_ticket(model, names, 'task', _write(tmp_path / 'e.pth', {'a': 1}))


# ----------------------------------------------------------------------- training
def test_transfer_config_trains_the_transferred_ticket(tmp_path):
    state = _classifier_state()
    path = _write(tmp_path / 'cls.pth', FORMATS['mmpretrain'](state))
    runner = build_runner(toy_cfg(tmp_path / 'w', lottery=dict(
        rounds=1, keep_ratio=1.0, rewind_iter=None,
        transfer=dict(mode='imagenet', source=path)), train_cfg=dict(
            by_epoch=True, max_epochs=1, val_interval=1)))
    runner.train()
    masks = ticket_masks(tmp_path / 'w', 0)
    for n in BACKBONE:
        assert torch.equal(masks[n].bool(), state[n[9:]] != 0)
    final = torch.load(osp.join(tmp_path, 'w', 'round_0', 'final.pth'), weights_only=False)
    for n in BACKBONE:  # mask held through fine-tuning
        assert torch.all(final['state_dict'][n][state[n[9:]] == 0] == 0)


def test_partial_task_transfer_is_refused_before_training_and_leaves_no_files(tmp_path):
    """lottery.transfer covering under half of the prunable weights: one clear error,
    raised on round 0's before_train, and the new work_dir is rolled back (a corrected
    rerun starts cleanly); allow_partial=True trains it."""
    model, names = _target()
    params = dict(model.named_parameters())
    save_ticket(str(tmp_path / 'det.pth'), MaskSet({
        n: torch.rand(params[n].shape) > 0.5 for n in BACKBONE}), {})
    transfer = dict(mode='task', source=str(tmp_path / 'det.pth'))
    work = tmp_path / 'w'
    cfg = toy_cfg(work, lottery=dict(rounds=1, keep_ratio=1.0, rewind_iter=None,
                                     transfer=transfer),
                  train_cfg=dict(by_epoch=True, max_epochs=1, val_interval=1))
    with pytest.raises(ValueError, match=r'covers only .*allow_partial'):
        build_runner(cfg).train()
    assert not work.exists()
    cfg.lottery.transfer = dict(transfer, allow_partial=True)
    build_runner(cfg).train()
    assert ticket_masks(work, 0)


# ------------------------------------------------------------- acceptance, real models
def test_tool_mmpretrain_r18_into_faster_rcnn_r18(tmp_path):
    pytest.importorskip('mmpretrain')
    from mmengine.config import Config
    from lth_mm.apis import build_model_from_cfg, transfer_ticket
    cls = build_model_from_cfg(Config.fromfile(
        osp.join(ROOT, 'configs/imagenet/resnet18_lth-keep20-rw1ep_8xb32_in1k.py')))
    state = cls.state_dict()
    g = torch.Generator().manual_seed(0)
    convs = [k for k in state if k.startswith('backbone.') and k.endswith('.weight')
             and state[k].dim() == 4 and 'downsample' not in k]
    for k in convs:
        state[k] *= (torch.rand(state[k].shape, generator=g) > 0.8).float()
    src = _write(tmp_path / 'r18.pth', {'meta': {}, 'state_dict': state})
    out = str(tmp_path / 'ticket.pth')
    cfg = osp.join(ROOT, 'configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py')
    assert transfer_ticket(src, cfg, 'imagenet', out) == 0
    ticket = load_ticket(out)
    backbone = [n for n in ticket.masks.names() if n.startswith('backbone.')]
    assert sorted(backbone) == sorted(convs)
    for n in backbone:
        assert torch.equal(ticket.masks[n], state[n] != 0)
    rest = [n for n in ticket.masks.names() if not n.startswith('backbone.')]
    assert rest and all(bool(ticket.masks[n].all()) for n in rest)  # neck and heads dense
    assert torch.equal(ticket.values['backbone.layer1.0.bn1.running_var'],
                       state['backbone.layer1.0.bn1.running_var'])
    with pytest.raises(SystemExit, match='exists'):
        transfer_ticket(src, cfg, 'imagenet', out)


def test_c4_res5_receives_layer4(tmp_path):
    """mmdet's C4 detectors keep res5 in roi_head.shared_head: the ticket's layer4 goes there."""
    import torch.nn as nn
    target = nn.Module()
    target.backbone = nn.Module()
    target.backbone.conv1 = nn.Conv2d(3, 4, 3, bias=False)
    target.roi_head = nn.Module()
    target.roi_head.shared_head = nn.Module()
    target.roi_head.shared_head.layer4 = nn.Conv2d(4, 4, 3, bias=False)
    names = ['backbone.conv1.weight', 'roi_head.shared_head.layer4.weight']
    state = {'conv1.weight': torch.randn(4, 3, 3, 3), 'layer4.weight': torch.randn(4, 4, 3, 3)}
    for v in state.values():
        v[0] = 0
    ticket = build_transfer_ticket(target, names, 'imagenet', _write(tmp_path / 's.pth', state))
    assert torch.equal(ticket.masks['roi_head.shared_head.layer4.weight'],
                       state['layer4.weight'] != 0)
    # task mode keeps exact names: the C4 rule is for the backbone modes only
    save_ticket(str(tmp_path / 't.pth'), MaskSet({'backbone.layer4.weight': torch.zeros(
        4, 4, 3, 3, dtype=torch.bool), 'backbone.conv1.weight': state['conv1.weight'] != 0}),
        {})
    ticket = build_transfer_ticket(target, names, 'task', str(tmp_path / 't.pth'),
                                   allow_partial=True)  # conv1 only: 43% covered
    assert bool(ticket.masks['roi_head.shared_head.layer4.weight'].all())


def test_synthetic_cls_crops(tmp_path):
    import json
    from lth_mm.datasets import ensure_synthetic_cls_dataset
    root = ensure_synthetic_cls_dataset(str(tmp_path / 'cls'), num_train=3, num_val=1,
                                        img_size=64, seed=1, crop_size=16)
    meta = json.load(open(osp.join(root, 'meta.json')))
    src = json.load(open(osp.join(root, 'source/annotations/instances_train.json')))
    assert sum(meta['crops']['train'].values()) == len(src['annotations']) > 0
    import cv2
    for c, n in meta['crops']['train'].items():
        files = sorted(os.listdir(osp.join(root, 'train', c)))
        assert len(files) == n
        if files:
            assert cv2.imread(osp.join(root, 'train', c, files[0])).shape == (16, 16, 3)
    assert ensure_synthetic_cls_dataset(root, num_train=3, num_val=1, img_size=64, seed=1,
                                        crop_size=16) == root  # reused, not regenerated
    with pytest.raises(ValueError, match='made with'):
        ensure_synthetic_cls_dataset(root, num_train=3, num_val=1, img_size=64, seed=2,
                                     crop_size=16)


@pytest.mark.parametrize('name,mode', [
    ('keypoint-rcnn_r18_fpn_lth-imagenet-keep20_90k_coco.py', 'imagenet'),
    ('faster-rcnn_r50_fpn_lth-masktransfer-keep20_12e_voc07.py', 'mask'),
    ('td-hm_res18_lth-task-from-mask-rcnn-keep20_8xb64-210e_coco-256x192.py', 'task'),
    ('mask-rcnn_r18-w32_fpn_lth-imagenet-keep20_synthetic-easy.py', 'imagenet'),
])
def test_transfer_configs_validate(name, mode):
    from mmengine.config import Config
    from lth_mm.pruning import LotterySettings
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'transfer', name))
    settings = LotterySettings.from_dict(cfg.lottery)
    assert settings.transfer['mode'] == mode and settings.given_ticket
    assert settings.rounds == 1 and not settings.rewind_iter and not settings.rewind_epochs
