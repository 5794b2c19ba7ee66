"""Keypoint R-CNN in mmdet (issue 9): heatmap math against hand-computed values, the
dataset / transforms / packing, the COCO keypoint metric, the model (loss, inference,
tensor mode), the paper's sparsity figures and a lottery run through the Runner.

Real-data checks use ``../shared/data/coco_mini`` (4 COCO val2017 images, 14 people) and
skip when it is absent; everything else runs on the synthetic shapes (5 keypoints).
"""
import copy
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lth_mm  # noqa: F401  (registers datasets, transforms, models, metric)
from lth_mm.apis import build_model_from_cfg, strip_init_cfg
from lth_mm.datasets import ensure_synthetic_dataset
from lth_mm.models import (heatmaps_to_keypoints, keypoint_heatmap_targets,
                           visible_keypoints_in_boxes)

from _toy import synthetic_cfg, train_rounds

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO_MINI = osp.abspath(osp.join(REPO, '..', 'shared', 'data', 'coco_mini'))
CFG_DIR = osp.join(REPO, 'configs', 'keypoint_rcnn')
QUICKSTART = osp.join(CFG_DIR, 'keypoint-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py')
R18_KEEP20 = 'configs/keypoint_rcnn/keypoint-rcnn_r18_fpn_lth-keep20-rw3535it_90k_coco.py'
TINY = dict(num_train=4, num_val=2, img_size=64, seed=0)

needs_coco_mini = pytest.mark.skipif(
    not osp.isfile(osp.join(COCO_MINI, 'person_keypoints.json')),
    reason=f'coco_mini not found at {COCO_MINI} (shared data absent)')


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('kp') / 'synthetic') + '/'
    ensure_synthetic_dataset(root, **TINY)
    return root


# ------------------------------------------------------------------------------------
# heatmap math (pure torch)
# ------------------------------------------------------------------------------------
def test_targets_match_hand_computed_indices():
    rois = torch.tensor([[10., 20., 66., 76.], [0., 0., 112., 112.]])  # 56 and 112 px
    kpts = torch.tensor([
        [[66., 20., 2], [10., 20., 2], [37.9, 50.2, 1], [67., 30., 2], [30., 30., 0]],
        [[111.9, 3., 2], [112., 112., 2], [0., 111.99, 2], [-0.1, 5., 2], [56., 56., 2]],
    ])
    labels, valid = keypoint_heatmap_targets(kpts, rois, 56)
    # right edge -> column 55; top-left corner -> 0; (27, 30) -> 30 * 56 + 27.
    assert labels[0].tolist() == [55, 0, 30 * 56 + 27, 0, 0]
    assert valid[0].tolist() == [True, True, True, False, False]  # outside; v = 0
    # 112 px box: 2 px per cell; bottom-right corner -> (55, 55).
    assert labels[1].tolist() == [56 + 55, 55 * 56 + 55, 55 * 56, 0, 28 * 56 + 28]
    assert valid[1].tolist() == [True, True, True, False, True]


def test_visible_keypoints_in_boxes():
    boxes = torch.tensor([[0., 0., 10., 10.]] * 3)
    kpts = torch.tensor([[[5., 5., 2.], [0, 0, 0]],
                         [[5., 5., 0.], [20., 5., 2.]],  # inside but unlabelled; outside
                         [[10., 10., 1.], [0, 0, 0]]])   # on the corner: inside
    assert visible_keypoints_in_boxes(kpts, boxes).tolist() == [True, False, True]


def test_decode_one_hot_heatmap_returns_the_keypoint():
    heat = torch.full((1, 2, 56, 56), -10.)
    heat[0, 0, 10, 20] = 10.  # row 10, column 20
    heat[0, 1, 55, 0] = 10.
    # A 56-px box: one pixel per cell, the cell centre (+0.5) is returned.
    coords, scores = heatmaps_to_keypoints(heat, torch.tensor([[100., 200., 156., 256.]]))
    assert coords[0].tolist() == [[120.5, 210.5], [100.5, 255.5]]
    assert ((scores > 0.99) & (scores < 1.01)).all()
    # Encode -> one-hot -> decode on a 112-px box returns the point within a cell (2 px).
    roi = torch.tensor([[40., 60., 152., 172.]])
    point = torch.tensor([[[101.3, 77.8, 2.]]])
    label, _ = keypoint_heatmap_targets(point, roi, 56)
    heat = torch.full((1, 1, 56 * 56), -10.)
    heat[0, 0, label[0, 0]] = 10.
    coords, _ = heatmaps_to_keypoints(heat.view(1, 1, 56, 56), roi)
    assert coords[0, 0].tolist() == pytest.approx([101.3, 77.8], abs=2.0)


def test_head_loss_is_the_mean_spatial_cross_entropy_over_valid_keypoints():
    from lth_mm.models import KeypointRCNNHead
    head = KeypointRCNNHead(num_keypoints=3, in_channels=8, num_convs=1,
                            conv_out_channels=8)
    torch.manual_seed(0)
    preds = torch.randn(2, 3, 56, 56)
    rois = torch.tensor([[0., 0., 56., 56.], [0., 0., 112., 112.]])
    kpts = torch.tensor([[[1.5, 2.5, 2], [0, 0, 0], [55.5, 0.5, 1]],
                         [[3., 3., 2], [200., 3., 2], [0, 0, 0]]])
    loss = head.loss(preds, rois, kpts)
    flat = preds.view(2, 3, -1)
    hand = [-F.log_softmax(flat[0, 0], 0)[2 * 56 + 1], -F.log_softmax(flat[0, 2], 0)[55],
            -F.log_softmax(flat[1, 0], 0)[1 * 56 + 1]]
    assert float(loss['loss_keypoint']) == pytest.approx(float(sum(hand) / 3), rel=1e-5)
    assert float(loss['keypoint_valid']) == 3
    # No valid keypoint: a zero loss that still reaches every parameter.
    feats = torch.randn(1, 8, 14, 14)
    empty = head.loss(head(feats), rois[:1], torch.zeros(1, 3, 3))
    empty['loss_keypoint'].backward()
    assert empty['loss_keypoint'].item() == 0
    assert all(p.grad is not None for p in head.parameters())


def test_head_shapes_and_paper_structure():
    from lth_mm.models import KeypointRCNNHead
    head = KeypointRCNNHead()  # paper defaults
    assert len(head.convs) == 8 and head.convs[0].out_channels == 512
    assert head(torch.zeros(2, 256, 14, 14)).shape == (2, 17, 56, 56)
    with pytest.raises(ValueError, match='num_keypoints'):
        KeypointRCNNHead(num_keypoints=0)


# ------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------
def _build_dataset(cfg):
    from mmengine.registry import init_default_scope
    from mmdet.registry import DATASETS
    init_default_scope('mmdet')
    return DATASETS.build(cfg)


def _coco_mini_dataset(pipeline=(), test_mode=False, **kwargs):
    return _build_dataset(dict(
        type='CocoKeypointDataset', data_root=COCO_MINI + '/', ann_file='person_keypoints.json',
        data_prefix=dict(img='images/'), test_mode=test_mode, pipeline=list(pipeline),
        **kwargs))


@needs_coco_mini
def test_coco_dataset_loads_17_keypoints_with_the_half_pixel_shift():
    ds = _coco_mini_dataset()
    with open(osp.join(COCO_MINI, 'person_keypoints.json')) as f:
        raw = json.load(f)
    anns = {a['id']: a for a in raw['annotations']}
    assert len(ds) == 4 and ds.metainfo['flip_indices'] == (
        0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)
    n_inst = 0
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        img_anns = [a for a in raw['annotations'] if a['image_id'] == info['img_id']]
        for inst, ann in zip(info['instances'], img_anns):
            assert inst['bbox'][0] == pytest.approx(ann['bbox'][0])
            want = np.asarray(anns[ann['id']]['keypoints'], np.float32).reshape(17, 3)
            lab = want[:, 2] > 0
            assert np.allclose(inst['keypoints'][lab, :2], want[lab, :2] + 0.5)
            assert (inst['keypoints'][~lab] == 0).all()
            n_inst += 1
    assert n_inst == 14
    # min_keypoints_per_image drops training images (never test images).
    assert len(_coco_mini_dataset(min_keypoints_per_image=10**6, serialize_data=False)) == 0
    assert len(_coco_mini_dataset(min_keypoints_per_image=10**6, test_mode=True)) == 4
    with pytest.raises(ValueError, match='min_keypoints_per_image'):
        _coco_mini_dataset(min_keypoints_per_image=-1)


def test_transforms_resize_flip_and_pack_keypoints(synthetic_root):
    from mmengine.dataset import Compose
    ds = _build_dataset(dict(
        type='SyntheticKeypointDataset', data_root=synthetic_root, synthetic=TINY,
        ann_file='annotations/instances_train.json', data_prefix=dict(img='images/train/'),
        pipeline=[]))
    assert ds.metainfo['flip_indices'] == (0, 3, 2, 1, 4)  # right <-> left
    info = ds.get_data_info(0)
    load = [dict(type='LoadImageFromFile'), dict(type='LoadKeypointAnnotations',
                                                 with_bbox=True)]
    base = Compose(load)(copy.deepcopy(info))['gt_keypoints']
    assert base.shape == (len(info['instances']), 5, 3)
    out = Compose(load + [
        dict(type='KeypointResize', scale_factor=2.0, keep_ratio=True),
        dict(type='KeypointRandomFlip', prob=1.0),
        dict(type='PackKeypointDetInputs')])(copy.deepcopy(info))
    kpts = out['data_samples'].gt_instances.keypoints.numpy()
    width = 2 * TINY['img_size']
    want = base[:, [0, 3, 2, 1, 4]].copy()
    want[..., 0] = width - 2 * want[..., 0]
    want[..., 1] *= 2
    want[want[..., 2] <= 0] = 0
    assert np.allclose(kpts, want)
    boxes = out['data_samples'].gt_instances.bboxes.tensor.numpy()
    # The flipped 'left' keypoint (formerly 'right', at x2) lies on the flipped box's x1.
    assert np.allclose(kpts[:, 3, 0], boxes[:, 0])
    # Crowd instances go to ignored_instances with their keypoints.
    info2 = copy.deepcopy(info)
    info2['instances'][0]['ignore_flag'] = 1
    out2 = Compose(load + [dict(type='PackKeypointDetInputs')])(info2)
    assert len(out2['data_samples'].gt_instances.keypoints) == len(info['instances']) - 1
    assert len(out2['data_samples'].ignored_instances.keypoints) == 1


# ------------------------------------------------------------------------------------
# metric
# ------------------------------------------------------------------------------------
def _perfect_predictions(ds, jitter=0.0):
    """Data samples whose predictions are the ground truth (boxes, labels, keypoints)."""
    samples = []
    rng = np.random.default_rng(0)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        # Instances without a labelled keypoint are ignored by COCOeval('keypoints').
        inst = [x for x in info['instances']
                if not x['ignore_flag'] and (x['keypoints'][:, 2] > 0).any()]
        kpts = np.stack([x['keypoints'][:, :2] for x in inst]).astype(np.float32)
        kpts = kpts + jitter * rng.standard_normal(kpts.shape).astype(np.float32)
        n = len(inst)
        samples.append(dict(
            img_id=info['img_id'], ori_shape=(info['height'], info['width']),
            pred_instances=dict(
                bboxes=torch.tensor([x['bbox'] for x in inst], dtype=torch.float32),
                scores=torch.ones(n), labels=torch.tensor([x['bbox_label'] for x in inst]),
                keypoints=torch.from_numpy(kpts), keypoint_scores=torch.ones(n, kpts.shape[1]))))
    return samples


def _evaluate(ds, ann_file, samples, **kwargs):
    from mmdet.registry import METRICS
    metric = METRICS.build(dict(type='CocoKeypointMetric', ann_file=ann_file, **kwargs))
    metric.dataset_meta = ds.metainfo
    metric.process({}, samples)
    return metric.evaluate(len(samples))


@needs_coco_mini
def test_metric_scores_ground_truth_as_perfect_on_coco_mini(tmp_path):
    ds = _coco_mini_dataset(test_mode=True)
    ann = osp.join(COCO_MINI, 'person_keypoints.json')
    res = _evaluate(ds, ann, _perfect_predictions(ds),
                    outfile_prefix=str(tmp_path / 'results'))
    # The +0.5 of loading is undone when writing COCO results: OKS = 1 everywhere.
    assert res['coco/keypoints_mAP'] == pytest.approx(1.0)
    assert 0.5 < res['coco/bbox_mAP'] <= 1.0  # people without keypoints are missed
    dumped = json.loads((tmp_path / 'results.keypoints.json').read_text())
    gt = json.loads(open(ann).read())['annotations']
    first = next(a for a in gt if a['image_id'] == dumped[0]['image_id'])
    assert len(dumped[0]['keypoints']) == 51
    lab = np.asarray(first['keypoints']).reshape(17, 3)[:, 2] > 0
    got = np.asarray(dumped[0]['keypoints']).reshape(17, 3)
    assert np.allclose(got[lab, :2], np.asarray(first['keypoints']).reshape(17, 3)[lab, :2])
    noisy = _evaluate(ds, ann, _perfect_predictions(ds, jitter=8.0))
    assert 0 <= noisy['coco/keypoints_mAP'] < 0.9


def test_metric_uses_the_dataset_sigmas_and_needs_an_ann_file(synthetic_root):
    ds = _build_dataset(dict(
        type='SyntheticKeypointDataset', data_root=synthetic_root, synthetic=TINY,
        ann_file='annotations/instances_val.json', data_prefix=dict(img='images/val/'),
        test_mode=True, pipeline=[]))
    ann = osp.join(synthetic_root, 'annotations', 'instances_val.json')
    res = _evaluate(ds, ann, _perfect_predictions(ds), metric='keypoints')
    assert res == {**res, 'coco/keypoints_mAP': pytest.approx(1.0)}
    assert 'coco/bbox_mAP' not in res
    with pytest.raises(ValueError, match='ann_file'):
        _evaluate(ds, None, [], metric='keypoints')
    with pytest.raises(ValueError, match='sigmas'):
        _evaluate(ds, ann, _perfect_predictions(ds), metric='keypoints', sigmas=[0.1])


# ------------------------------------------------------------------------------------
# model
# ------------------------------------------------------------------------------------
def _config(path):
    from mmengine.config import Config
    return Config.fromfile(path if osp.isabs(path) else osp.join(REPO, path))


def _coco_mini_model_and_batch(scale=(192, 192)):
    """The R18 paper model, CPU-sized (64-channel FPN and heads, 2 head convs, few RoIs),
    and the coco_mini images through the config's own pipelines at ``scale``."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = _config(R18_KEEP20)
    cfg.model = strip_init_cfg(cfg.model)
    ch = 64
    cfg.model.neck.out_channels = ch
    cfg.model.rpn_head.update(in_channels=ch, feat_channels=ch)
    cfg.model.roi_head.bbox_roi_extractor.out_channels = ch
    cfg.model.roi_head.bbox_head.update(in_channels=ch, fc_out_channels=256)
    cfg.model.roi_head.keypoint_roi_extractor.out_channels = ch
    cfg.model.roi_head.keypoint_head.update(in_channels=ch, num_convs=2,
                                            conv_out_channels=ch)
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=300, max_per_img=100)
    cfg.model.train_cfg.rcnn.sampler.num = 64
    cfg.model.test_cfg.rpn.update(nms_pre=300, max_per_img=100)
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=10)
    torch.manual_seed(0)
    model = build_model_from_cfg(cfg)
    model.init_weights()
    pipelines = {}
    for split, loader in (('train', cfg.train_dataloader), ('test', cfg.test_dataloader)):
        pipeline = copy.deepcopy(loader.dataset.pipeline)
        for t in pipeline:
            if t['type'] == 'RandomChoiceResize':
                t.update(scales=[scale])
            elif t['type'] == 'KeypointResize':
                t['scale'] = scale
            elif t['type'] == 'KeypointRandomFlip':
                t['prob'] = 0.0
        pipelines[split] = _coco_mini_dataset(pipeline, test_mode=split == 'test')
    return model, pipelines


@needs_coco_mini
def test_training_on_coco_mini_lowers_the_keypoint_loss_and_inference_returns_17_keypoints():
    model, datasets = _coco_mini_model_and_batch()
    items = [datasets['train'][i] for i in range(2)]
    batch = dict(inputs=[x['inputs'] for x in items],
                 data_samples=[x['data_samples'] for x in items])
    assert batch['data_samples'][0].gt_instances.keypoints.shape[1:] == (17, 3)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()
    kpt_losses = []
    for _ in range(6):
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optim.zero_grad()
        loss.backward()
        optim.step()
        kpt_losses.append(losses['loss_keypoint'].item())
    # Starts near the uniform heatmap's log(56 * 56) = 8.05 and falls on these people.
    assert kpt_losses[0] == pytest.approx(math.log(56 * 56), abs=1.0)
    assert np.mean(kpt_losses[-2:]) < np.mean(kpt_losses[:2]) - 0.5, kpt_losses

    model.eval()
    item = datasets['test'][0]
    batch = dict(inputs=[item['inputs']], data_samples=[item['data_samples']])
    with torch.no_grad():
        data = model.data_preprocessor(copy.deepcopy(batch), False)
        pred = model(**data, mode='predict')[0].pred_instances
        # rescale=False: the network's input coordinates; the scale factor links both.
        feats = model.extract_feat(data['inputs'])
        rpn = model.rpn_head.predict(feats, data['data_samples'], rescale=False)
        raw = model.roi_head.predict(feats, rpn, data['data_samples'], rescale=False)[0]
        heat = model(**data, mode='tensor')
    n = len(pred)
    assert n > 0 and pred.keypoints.shape == (n, 17, 2) and pred.keypoint_scores.shape == (n, 17)
    h, w = item['data_samples'].ori_shape
    assert (pred.keypoints[..., 0] <= w + 1).all() and (pred.keypoints[..., 1] <= h + 1).all()
    scale = torch.tensor(item['data_samples'].scale_factor)
    assert torch.allclose(pred.keypoints * scale, raw.keypoints, atol=1e-3)
    assert torch.allclose(pred.bboxes * scale.repeat(2), raw.bboxes, atol=1e-3)
    # Tensor mode (FLOP counting): RPN outputs, box scores/deltas, keypoint heatmaps.
    assert heat[-1][-1].shape[1:] == (17, 56, 56)


def test_paper_scope_and_the_r18_network_sparsity():
    """Paper Table 4: at keep 0.2 the R18 Keypoint R-CNN is 79.4% sparse; the rule covers
    99.29% of the parameters, counted as Detectron2 counts them (its frozen BN statistics
    and affine terms are buffers): with mmdet's BN affine parameters counted too it is
    99.26%, and the network sparsity is 79.41% either way."""
    from lth_mm.pruning import select_prunable
    from lth_mm import zoo as zoo_table
    cache = zoo_table.ModelCache()
    row = zoo_table.zoo_row(R18_KEEP20, cache)
    assert row['network_sparsity'] == pytest.approx(0.794, abs=0.001)
    model = cache.model(cache.config(R18_KEEP20))
    params = dict(model.named_parameters())
    prunable = set(select_prunable(model, scope='paper'))
    assert 'roi_head.keypoint_head.kpt_logits.weight' not in prunable
    assert {f'roi_head.keypoint_head.convs.{i}.weight' for i in range(8)} <= prunable
    n_prunable = sum(params[n].numel() for n in prunable)
    n_total = sum(p.numel() for p in params.values())
    norms = {n for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    n_bn = sum(p.numel() for n, p in params.items() if n.rsplit('.', 1)[0] in norms)
    assert n_prunable / n_total == pytest.approx(0.9926, abs=0.0001)
    assert n_prunable / (n_total - n_bn) == pytest.approx(0.9929, abs=0.0001)


# ------------------------------------------------------------------------------------
# the lottery through the Runner
# ------------------------------------------------------------------------------------
def test_quickstart_lottery_rounds_through_the_runner(synthetic_root, tmp_path):
    """The synthetic quickstart at 64 px, one iteration per round: a dense round and the
    keep-20% ticket, both evaluated with box and keypoint AP; the ticket keeps the
    keypoint predictor dense and prunes the keypoint convs."""
    from lth_mm import paths
    from lth_mm.pruning import load_ticket
    # TINY replaces the quickstart's easy variant
    cfg = synthetic_cfg(QUICKSTART, tmp_path, TINY, data_root=synthetic_root,
                        lottery=dict(rounds=2, keep_ratio=0.2, rewind_epochs=None,
                                     rewind_iter=0))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.batch_size = 2
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    cfg.model.train_cfg.rcnn.sampler.num = 32
    cfg.model.test_cfg.rcnn.score_thr = 0.0  # an untrained detector still outputs boxes
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=-1,
                                        save_last=False)
    cfg.log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
    _, rows = train_rounds(cfg)
    assert [r['kind'] for r in rows] == ['dense', 'ticket']
    for row in rows:
        assert {'coco/bbox_mAP', 'coco/keypoints_mAP'} <= set(row['metrics']), row['metrics']
    assert rows[1]['prunable_sparsity'] == pytest.approx(0.8, abs=1e-4)
    ticket = load_ticket(paths.ticket(cfg.work_dir, 1))
    names = set(ticket.masks.names())
    assert 'roi_head.keypoint_head.kpt_logits.weight' not in names
    assert 'roi_head.keypoint_head.convs.0.weight' in names
