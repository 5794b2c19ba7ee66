# Copyright (c) lth_mm authors. All rights reserved.
"""The tiny recipes of tests/recipes train with a plain mmengine Runner (no lottery).

What a lottery round must reproduce is what these runs show: each recipe's own hooks,
samplers and pipelines act during an ordinary run (a pipeline switch, a mode switch, a
replaced dataloader, multi-source batches), the losses are finite and the checkpoints
are written where mmengine writes them.
"""
import glob
import math
import os
import os.path as osp
import uuid

import pytest
import torch
from mmengine.runner import Runner

from recipes import recipe_cfg


# The slowest recipes (15-25 s each on 2 shared cores, where the others take 5-15 s) run
# only with LTH_MM_SLOW_TESTS=1, to keep this file's default cost within its share of the
# suite's budget. The ones that stay cover every hook, sampler and loop kind the engine
# has to survive (mode and pipeline switches, a replaced dataloader, cached mixing, EMA,
# MultiSourceSampler with an iteration loop).
slow = pytest.mark.skipif(not os.environ.get('LTH_MM_SLOW_TESTS'),
                          reason='slow recipe: set LTH_MM_SLOW_TESTS=1 to run it')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    """One synthetic data root for the module: each data set is generated once."""
    return tmp_path_factory.mktemp('recipe_data')


def _train(name, tmp_path, data_root, probe=None, **overrides):
    """Build recipe ``name``, add a RecipeProbeHook(**probe), train; returns the Runner."""
    cfg = recipe_cfg(name, tmp_path / 'work', data_root, **overrides)
    # A name of its own: runners named alike in one process share their MessageHub.
    cfg.experiment_name = f'recipe_{name}_{uuid.uuid4().hex[:8]}'
    if probe is not None:
        cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='RecipeProbeHook', **probe)]
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _probe(runner):
    (hook, ) = [h for h in runner.hooks if type(h).__name__ == 'RecipeProbeHook']
    return hook


def _check_run(runner, unit, length, iters):
    """``iters`` finite losses (any number if None) were logged and the last checkpoint
    is ``{unit}_{length}``. Returns the loaded last checkpoint.
    """
    losses, _ = runner.message_hub.get_scalar('train/loss').data
    assert len(losses) == iters if iters is not None else len(losses) > 0
    assert all(math.isfinite(x) for x in losses), losses
    with open(osp.join(runner.work_dir, 'last_checkpoint')) as f:
        last = f.read().strip()
    assert osp.basename(last) == f'{unit}_{length}.pth'
    ckpt = torch.load(last, map_location='cpu', weights_only=False)
    assert ckpt['meta'][unit] == length
    return ckpt


def _has(name, runner):
    return f'train/{name}' in runner.message_hub.log_scalars


def test_rtmdet(tmp_path, data_root):
    pipe = 'train_dataloader.dataset.pipeline'
    runner = _train('rtmdet', tmp_path, data_root, probe=dict(paths=dict(
        transforms=pipe + '.transforms', mosaic_cache=pipe + '.transforms.2.results_cache')))
    ckpt = _check_run(runner, 'epoch', 3, iters=6)
    assert 'ema_state_dict' in ckpt  # EMAHook
    rows = _probe(runner).records
    # PipelineSwitchHook: stage 1 (cached mixing) for epochs 0-1, stage 2 for epoch 2.
    assert [('CachedMosaic' in r['transforms'], 'CachedMixUp' in r['transforms'])
            for r in rows] == [(True, True), (True, True), (False, False)]
    # The mosaic cache starts empty and fills during the run (an engine must empty it).
    assert len(rows[0]['mosaic_cache']) == 0 < len(rows[1]['mosaic_cache'])


def test_yolox_mode_switch(tmp_path, data_root):
    runner = _train('yolox', tmp_path, data_root, probe=dict(paths=dict(
        use_l1='model.bbox_head.use_l1', skip='train_dataloader.dataset._skip_type_keys')))
    ckpt = _check_run(runner, 'epoch', 3, iters=6)
    assert 'ema_state_dict' in ckpt
    assert [(r['use_l1'], r['skip']) for r in _probe(runner).records] == [
        (False, None), (True, ['Mosaic', 'RandomAffine', 'MixUp']),
        (True, ['Mosaic', 'RandomAffine', 'MixUp'])]
    assert _has('loss_l1', runner)


@slow
def test_dino(tmp_path, data_root):
    runner = _train('dino', tmp_path, data_root)
    _check_run(runner, 'epoch', 2, iters=8)
    assert _has('dn_loss_cls', runner) and _has('enc_loss_cls', runner)


@slow
def test_cascade_iter(tmp_path, data_root):
    runner = _train('cascade_iter', tmp_path, data_root)
    loader = runner.train_dataloader
    assert type(loader.batch_sampler).__name__ == 'AspectRatioBatchSampler'
    assert type(loader.batch_sampler.sampler).__name__ == 'InfiniteSampler'
    _check_run(runner, 'iter', 8, iters=8)
    assert osp.isfile(osp.join(runner.work_dir, 'iter_4.pth'))
    assert _has('s2.loss_mask', runner)


def test_multisource(tmp_path, data_root):
    runner = _train('multisource', tmp_path, data_root,
                    probe=dict(paths={}, every='iter', batch_paths=True))
    assert type(runner.train_dataloader.sampler).__name__ == 'MultiSourceSampler'
    _check_run(runner, 'iter', 6, iters=6)
    batches = _probe(runner).batches
    assert len(batches) == 6
    for paths in batches:  # source_ratio [1, 2] of a batch of 3
        assert ['/shapes64_b/' in p for p in paths] == [False, True, True], paths


def test_rtmpose(tmp_path, data_root):
    pytest.importorskip('albumentations', reason='RTMPose pipelines need albumentations<2')
    runner = _train('rtmpose', tmp_path, data_root, probe=dict(paths=dict(
        pipeline='train_dataloader.dataset.pipeline')))
    _check_run(runner, 'epoch', 3, iters=6)
    ids = [r['pipeline'] for r in _probe(runner).records]
    assert ids[0] == ids[1] != ids[2]  # PipelineSwitchHook at epoch 2
    assert glob.glob(osp.join(runner.work_dir, 'best_coco_AP_epoch_3.pth'))


def test_yoloxpose_mode_switch(tmp_path, data_root):
    runner = _train('yoloxpose', tmp_path, data_root, probe=dict(paths=dict(
        loader='train_loop.dataloader', aux='model.head.use_aux_loss')))
    ckpt = _check_run(runner, 'epoch', 3, iters=6)
    assert 'ema_state_dict' in ckpt
    rows = _probe(runner).records
    # YOLOXPoseModeSwitchHook: a new dataloader and the auxiliary loss from epoch 1 on.
    assert [r['aux'] for r in rows] == [False, True, True]
    assert rows[0]['loader'] != rows[1]['loader'] == rows[2]['loader']


@pytest.mark.parametrize('name', ['mmpretrain_resnet', 'mmpretrain_vit'])
def test_mmpretrain(tmp_path, data_root, name):
    runner = _train(name, tmp_path, data_root)
    _check_run(runner, 'epoch', 2, iters=None)
    assert 'val/accuracy/top1' in runner.message_hub.log_scalars
