# Copyright (c) lth_mm authors. All rights reserved.
"""The tiny recipes of tests/recipes train with a plain mmengine Runner (no lottery).

RTMDet, YOLOX, YOLOX-Pose and the MultiSourceSampler recipe are trained (as round 0 of a
lottery, a plain run, and again in later rounds) with the same checks in
tests/test_engine_recipes.py.

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


def test_rtmpose(tmp_path, data_root):
    pytest.importorskip('albumentations', reason='RTMPose pipelines need albumentations<2')
    runner = _train('rtmpose', tmp_path, data_root, probe=dict(paths=dict(
        pipeline='train_dataloader.dataset.pipeline')))
    _check_run(runner, 'epoch', 3, iters=6)
    ids = [r['pipeline'] for r in _probe(runner).records]
    assert ids[0] == ids[1] != ids[2]  # PipelineSwitchHook at epoch 2
    assert glob.glob(osp.join(runner.work_dir, 'best_coco_AP_epoch_3.pth'))


@pytest.mark.parametrize('name', ['mmpretrain_resnet', 'mmpretrain_vit'])
def test_mmpretrain(tmp_path, data_root, name):
    runner = _train(name, tmp_path, data_root)
    _check_run(runner, 'epoch', 2, iters=None)
    assert 'val/accuracy/top1' in runner.message_hub.log_scalars
