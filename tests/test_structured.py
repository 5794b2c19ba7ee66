"""Structured (channel) tickets: Torch-Pruning's groups on Mask R-CNN, the criteria, the
lottery engine with them, and the physically smaller export against the masked model."""
import glob
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from lth_mm.apis import build_model_from_cfg
from lth_mm.pruning import (MaskSet, compute_masks, model_structure, random_channels,
                            save_ticket, select_prunable, ticket_meta)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICKSTART = osp.join(REPO, 'configs', 'quickstart', 'mask-rcnn_r18_fpn_lth-keep20_synthetic.py')


@pytest.fixture(scope='module')
def mask_rcnn():
    """The quickstart's Mask R-CNN R18 with random weights and non-trivial norms (a norm
    bias that leaked from a pruned channel would change the outputs)."""
    torch.manual_seed(0)
    model = build_model_from_cfg(Config.fromfile(QUICKSTART)).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.1, 0.1)
    prunable = select_prunable(model)
    return model, prunable, model_structure(model, prunable, 'channel_magnitude')


def _ones(weights):
    return {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}


def _weights(model, names):
    params = dict(model.named_parameters())
    return {n: params[n].detach() for n in names}


def test_groups_follow_the_paper_scope_and_leave_coupled_channels_dense(mask_rcnn):
    model, _, structure = mask_rcnn
    roots = {g.root for g in structure.groups}
    # R18's basic blocks: the channels between conv1 and conv2 of each of the 8 blocks.
    expected = {f'backbone.layer{i}.{b}.conv1' for i in range(1, 5) for b in range(2)} | {
        'rpn_head.rpn_conv', 'roi_head.bbox_head.shared_fcs.0',
        'roi_head.bbox_head.shared_fcs.1', 'roi_head.mask_head.upsample'} | {
        f'roi_head.mask_head.convs.{i}.conv' for i in range(4)}
    assert roots == expected
    assert all(len(g.producers) == 1 for g in structure.groups)
    # Residual streams (with their 1x1 shortcuts) and FPN sums stay dense by default; the
    # FPN outputs, read through the RoI extractor into the box head's first fc, too.
    reasons = ' '.join(structure.dense.values())
    assert 'tied by additions' in reasons and 'reads' in reasons
    assert not any(r.startswith(('rpn_head.rpn_cls', 'roi_head.bbox_head.fc_cls'))
                   for r in roots)  # predictors keep their outputs
    coupled = model_structure(model, select_prunable(model), dict(
        type='channel_magnitude', coupled=True))
    assert any(len(g.producers) > 1 for g in coupled.groups)  # now the FPN laterals too


def test_channel_masks_cover_every_member_of_a_pruned_channel(mask_rcnn):
    model, prunable, structure = mask_rcnn
    w = _weights(model, prunable)
    masks = compute_masks('channel_magnitude', w, _ones(w), 0.5, structure=structure)
    alive = structure.alive(masks)
    for g in structure.groups:
        assert int(alive[g.root].sum()) == math.ceil(0.5 * g.size)
    # layer1.0: conv1's filters, bn1's weight and bias, conv2's input slices go together
    keep = alive['backbone.layer1.0.conv1']
    assert torch.equal(masks['backbone.layer1.0.conv1.weight'].flatten(1).any(1), keep)
    assert torch.equal(masks['backbone.layer1.0.bn1.weight'], keep)
    assert torch.equal(masks['backbone.layer1.0.bn1.bias'], keep)
    assert torch.equal(masks['backbone.layer1.0.conv2.weight'].transpose(0, 1).flatten(1).any(1),
                       keep)
    assert torch.equal(masks['rpn_head.rpn_conv.bias'], alive['rpn_head.rpn_conv'])
    # The kept channels are the largest filters (L1, Li et al. 2017).
    score = w['backbone.layer1.0.conv1.weight'].abs().flatten(1).mean(1)
    assert score[keep].min() >= score[~keep].max()
    # Cumulative: a second round keeps a subset of the first round's channels.
    second = compute_masks('channel_magnitude', w, masks, 0.25, structure=structure)
    for g in structure.groups:
        a2 = structure.alive(second)[g.root]
        assert int(a2.sum()) == math.ceil(0.25 * g.size) and not (a2 & ~alive[g.root]).any()


def test_refill_and_random_channel_controls(mask_rcnn):
    model, prunable, structure = mask_rcnn
    w = _weights(model, prunable)
    refill = compute_masks('channel_refill', w, _ones(w), 0.5, structure=structure)
    magnitude = compute_masks('channel_magnitude', w, _ones(w), 0.5, structure=structure)
    a_ref, a_mag = structure.alive(refill), structure.alive(magnitude)
    assert all(int(a_ref[r].sum()) == int(a_mag[r].sum()) for r in a_ref)
    assert any(not torch.equal(a_ref[r], a_mag[r]) for r in a_ref)  # another criterion
    rand = random_channels(structure, magnitude, torch.Generator().manual_seed(1))
    a_rand = structure.alive(rand)
    assert all(int(a_rand[r].sum()) == int(a_mag[r].sum()) for r in a_rand)
    assert sum(int((a_rand[r] != a_mag[r]).sum()) for r in a_rand) > 100
    assert MaskSet(rand).kept() == MaskSet(magnitude).kept()  # same shapes, same counts
    with pytest.raises(ValueError, match='channel structure'):
        compute_masks('channel_magnitude', w, _ones(w), 0.5)


def test_depthwise_members_grouped_convs_dense_and_exact_removal():
    """Plain PyTorch: a depthwise conv passes its channels through (a member, not a second
    producer), a grouped conv keeps its channels, and removing the masked channels gives
    the masked model's outputs."""
    from lth_mm.pruning import ChannelStructure
    from lth_mm.pruning.channels import removable_channels
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, padding=1, groups=8), torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(), torch.nn.Conv2d(8, 6, 1), torch.nn.ReLU(),
        torch.nn.Conv2d(6, 6, 3, padding=1, groups=2), torch.nn.ReLU(),
        torch.nn.Conv2d(6, 2, 1)).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 3, 12, 12)
    prunable = [n for n, p in net.named_parameters() if n.endswith('weight') and p.dim() == 4]
    s = ChannelStructure(net, lambda: net(x), prunable, ignored=['10'])
    # One group: conv 0's channels through the depthwise conv 3 (a member, not a second
    # producer); conv 6's channels feed the grouped conv 8 and stay dense.
    assert len(s.groups) == 1 and s.groups[0].root in ('0', '3')
    assert [name for name, _, _ in s.groups[0].producers] == ['0.weight']
    assert not any(g.root in ('6', '8') for g in s.groups)
    w = {n: dict(net.named_parameters())[n].detach() for n in prunable}
    masks = compute_masks('channel_magnitude', w, _ones(w), 0.5, structure=s)
    assert masks['3.weight'].flatten(1).any(1).sum() == 4 and masks['4.bias'].sum() == 4
    with torch.no_grad():
        for n, p in net.named_parameters():
            if n in masks:
                p.mul_(masks[n])
        expected = net(x)
        s.remove(removable_channels(s, masks))
        assert net[0].out_channels == net[3].groups == net[6].in_channels == 4
        torch.testing.assert_close(net(x), expected, atol=1e-5, rtol=1e-5)


def test_one_shot_prune_with_a_channel_criterion(mask_rcnn, tmp_path):
    """tools/prune.py (lth_mm.apis.prune_checkpoint) builds the channel structure itself."""
    from lth_mm.apis import prune_checkpoint
    from lth_mm.pruning import load_ticket
    model, _, structure = mask_rcnn
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'ckpt.pth')
    assert prune_checkpoint(QUICKSTART, str(tmp_path / 'ckpt.pth'), 0.5,
                            str(tmp_path / 'ticket.pth'), criterion='channel_magnitude') == 0
    masks = load_ticket(str(tmp_path / 'ticket.pth')).masks.as_bool()
    expected = compute_masks('channel_magnitude', _weights(model, select_prunable(model)),
                             _ones(_weights(model, select_prunable(model))), 0.5,
                             structure=structure)
    assert set(masks) == set(expected)
    assert all(torch.equal(masks[n], expected[n]) for n in masks)


def _infer(model, cfg, images):
    from mmdet.apis import inference_detector
    model.cfg = cfg
    return [inference_detector(model, img).pred_instances for img in images]


def test_exported_model_is_smaller_and_matches_the_masked_model(mask_rcnn, tmp_path,
                                                                coco_mini):
    """The physically smaller model gives the masked model's detections on real images;
    masking only the filters (not the norms' biases) would not."""
    from mmengine.registry import MODELS
    from mmengine.runner import load_checkpoint

    from lth_mm.export import export_ticket
    model, prunable, structure = mask_rcnn
    w = _weights(model, prunable)
    masks = compute_masks('channel_magnitude', w, _ones(w), 0.5, structure=structure)
    ms = MaskSet(masks)
    total = sum(p.numel() for p in model.parameters())
    save_ticket(str(tmp_path / 'ticket.pth'), ms, ticket_meta(ms, total))
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'final.pth')
    info = export_ticket(QUICKSTART, str(tmp_path / 'final.pth'), str(tmp_path / 'export'),
                         ticket=str(tmp_path / 'ticket.pth'), compact=False)
    assert info['params_after'] == total - (ms.numel() - ms.kept())
    cfg = Config.fromfile(info['files']['config'])
    assert cfg.model.type == 'ChannelPrunedModel' and cfg.model.pruning_history
    small = MODELS.build(cfg.model)
    load_checkpoint(small, info['files']['checkpoint'], map_location='cpu', strict=True)
    small.eval()
    assert small.backbone.layer1[0].conv1.out_channels == 32

    state = model.state_dict()
    masked = build_model_from_cfg(Config.fromfile(QUICKSTART)).eval()
    masked.load_state_dict({k: v * masks[k] if k in masks else v for k, v in state.items()})
    leaky = build_model_from_cfg(Config.fromfile(QUICKSTART)).eval()
    leaky.load_state_dict({k: v * masks[k] if k in masks and k in w else v
                           for k, v in state.items()})
    images = sorted(glob.glob(str(coco_mini / 'images' / '*.jpg')))[:2]
    assert len(images) == 2
    for a, b, c in zip(_infer(masked, cfg, images), _infer(small, cfg, images),
                       _infer(leaky, cfg, images)):
        assert len(a) == len(b) > 0
        torch.testing.assert_close(b.bboxes, a.bboxes, atol=1e-3, rtol=1e-4)
        torch.testing.assert_close(b.scores, a.scores, atol=1e-5, rtol=1e-4)
        assert torch.equal(b.labels, a.labels)
        assert (b.masks != a.masks).float().mean() < 1e-3
        assert len(c) != len(a) or (c.scores - a.scores).abs().max() > 1e-3


def test_structured_lottery_rounds_and_random_channel_control(tmp_path):
    """Dense, a channel ticket and its random-channel control through the lottery engine;
    a second train() on the finished work_dir resumes and changes nothing."""
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
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.lottery = dict(rounds=2, keep_ratio=0.5, rewind_iter=1, controls=['random_ticket'],
                       criterion='channel_magnitude')
    cfg.work_dir = str(tmp_path / 'work')
    RUNNERS.build(cfg).train()
    summary = json.loads((tmp_path / 'work' / 'lottery_summary.json').read_text())
    rows = summary['rounds']
    assert [r['kind'] for r in rows] == ['dense', 'ticket', 'random_ticket']
    model = build_model_from_cfg(cfg)
    structure = model_structure(model, select_prunable(model), 'channel_magnitude')
    ticket = torch.load(tmp_path / 'work' / 'round_1' / 'ticket.pth', weights_only=False)
    from lth_mm.pruning import load_ticket
    t1 = load_ticket(str(tmp_path / 'work' / 'round_1' / 'ticket.pth')).masks.as_bool()
    t2 = load_ticket(str(tmp_path / 'work' / 'round_2' / 'ticket.pth')).masks.as_bool()
    a1, a2 = structure.alive(t1), structure.alive(t2)
    for g in structure.groups:
        assert int(a1[g.root].sum()) == int(a2[g.root].sum()) == math.ceil(0.5 * g.size)
    # Both are exactly the channel masks of their channel selections (whole channels,
    # with every member), and they differ.
    for t, a in ((t1, a1), (t2, a2)):
        expected = structure.masks(a)
        assert set(t) == set(expected) and all(torch.equal(t[n], expected[n]) for n in t)
    assert any(not torch.equal(a1[r], a2[r]) for r in a1)
    assert rows[1]['network_sparsity'] == pytest.approx(rows[2]['network_sparsity'])
    # The trained ticket's pruned channels are exactly zero in its final weights.
    final = torch.load(tmp_path / 'work' / 'round_1' / 'final.pth', weights_only=False)
    for n, m in t1.items():
        assert not final['state_dict'][n][~m].any()
    assert ticket['meta']['network_sparsity'] == pytest.approx(rows[1]['network_sparsity'])
    # The exported (physically smaller) round-1 model evaluates as the round did.
    from mmengine.runner import Runner

    from lth_mm.export import export_ticket
    cfg.dump(str(tmp_path / 'config.py'))
    info = export_ticket(str(tmp_path / 'config.py'), str(tmp_path / 'work' / 'round_1' /
                                                          'final.pth'),
                         str(tmp_path / 'export'), compact=False)
    assert info['params_after'] < 0.6 * info['params_before']
    exported = Config.fromfile(info['files']['config'])
    exported.work_dir = str(tmp_path / 'export_test')
    exported.load_from = info['files']['checkpoint']
    metrics = Runner.from_cfg(exported).test()
    assert metrics['coco/bbox_mAP'] == pytest.approx(rows[1]['metrics']['coco/bbox_mAP'],
                                                     abs=1e-3)
    # The structured ticket given back (norm, bias and reader masks included) trains once.
    given = Config.fromfile(str(tmp_path / 'config.py'))
    given.work_dir = str(tmp_path / 'given')
    given.lottery = dict(given.lottery, ticket=str(tmp_path / 'work' / 'round_1' /
                                                   'ticket.pth'),
                         rewind_from=str(tmp_path / 'work' / 'rewind_snapshot.pth'),
                         controls=[], rounds=1)
    RUNNERS.build(given).train()
    g_rows = json.loads((tmp_path / 'given' / 'lottery_summary.json').read_text())['rounds']
    assert [r['kind'] for r in g_rows] == ['given_ticket']
    assert g_rows[0]['network_sparsity'] == pytest.approx(rows[1]['network_sparsity'])
    before = (tmp_path / 'work' / 'lottery_summary.json').read_text()
    cfg.resume = True
    RUNNERS.build(cfg).train()
    assert json.loads((tmp_path / 'work' / 'lottery_summary.json').read_text())['rounds'] == \
        json.loads(before)['rounds']


def _structured_worker(rank, world, port, out_dir):
    import torch.distributed as dist

    from lth_mm.engine.utils import broadcast_masks
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world)
    torch.manual_seed(100 + rank)  # the ranks disagree on the weights
    model = build_model_from_cfg(Config.fromfile(QUICKSTART))
    prunable = select_prunable(model)
    structure = model_structure(model, prunable, 'channel_magnitude')
    w = _weights(model, prunable)
    local = compute_masks('channel_magnitude', w, _ones(w), 0.5, structure=structure)
    shared = broadcast_masks(local)
    torch.save(dict(local=local, shared=shared, roots=[g.root for g in structure.groups]),
               osp.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_structured_masks_are_broadcast_from_rank0(tmp_path):
    """2 gloo ranks: the same channel groups on both, and after the broadcast every rank
    holds rank 0's channel masks, norm and bias members included."""
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    mp.spawn(_structured_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in (0, 1))
    assert r0['roots'] == r1['roots']
    assert any(not torch.equal(r0['local'][n], r1['local'][n]) for n in r0['local'])
    assert 'backbone.layer1.0.bn1.bias' in r1['shared']
    for n in r0['local']:
        assert torch.equal(r1['shared'][n], r0['local'][n])
