"""ValLossHook and EarlyBirdHook on the toy lottery run (seconds)."""
import json
import os

import numpy as np
import pytest

from lth_mm import paths
from lth_mm.report import load_summary

from mmengine.registry import DATASETS

from _toy import LTHToyDataset, build_runner, toy_cfg


def _run(tmp_path, hooks, lottery=None, **over):
    cfg = toy_cfg(tmp_path / 'wd', lottery=lottery,
                  custom_hooks=[dict(type='LTHZeroCheckHook')] + hooks, **over)
    runner = build_runner(cfg)
    runner.train()
    return runner, str(tmp_path / 'wd')


def test_val_loss_and_early_bird_tracking(tmp_path):
    runner, wd = _run(tmp_path, [dict(type='ValLossHook'),
                                 dict(type='EarlyBirdHook', window=2, eps=0.5)])
    for r in (0, 1):
        log = json.load(open(paths.val_loss_json(wd, r)))
        assert [rec['epoch'] for rec in log['records']] == [1, 2, 3]
        assert all(np.isfinite(rec['loss']) and rec['loss'] > 0 for rec in log['records'])
        assert log['records'][0]['samples'] == 16  # the whole toy validation set
    eb = json.load(open(paths.early_bird_json(wd)))
    assert [r['step'] for r in eb['records']] == [1, 2, 3]
    assert eb['settings']['keep_ratio'] == pytest.approx(0.3)
    # the last mask is the final mask
    assert eb['records'][-1]['iou_final'] == pytest.approx(1.0)
    assert eb['records'][1]['converged'] == (eb['records'][1]['max_distance'] <= 0.5)
    assert eb['final']['planned'] == 3 and eb['final']['trained'] == 3
    assert not eb['final']['stopped_early']
    assert eb['final']['stable_step'] is not None
    row0 = load_summary(wd)['rounds'][0]
    assert row0['extras']['early_bird_step'] == eb['final']['early_bird_step']


def test_early_bird_stops_round_0(tmp_path):
    # Masks every 3 iterations (in an epoch loop); eps = 1: the rule holds as soon as the
    # FIFO holds two masks (iteration 6); the epoch loop stops at the end of that epoch.
    runner, wd = _run(tmp_path, [dict(type='EarlyBirdHook', interval=3, by_epoch=False,
                                       window=2, eps=1.0, stop=True)])
    eb = json.load(open(paths.early_bird_json(wd)))
    assert [r['step'] for r in eb['records']] == [3, 6]
    assert eb['final']['unit'] == 'iteration' and eb['final']['early_bird_step'] == 6
    assert eb['final']['early_bird_cost_fraction'] == pytest.approx(6 / 12)
    assert eb['final']['trained'] == 8 and eb['final']['stopped_early']
    rows = load_summary(wd)['rounds']
    assert rows[0]['iters'] == 2 * 4  # 2 epochs of 4 iterations, then round 1 as usual
    assert rows[1]['iters'] == 3 * 4 and rows[1]['kind'] == 'ticket'
    assert rows[0]['extras']['early_bird_stopped'] is True


def test_early_bird_rule_waits_for_begin(tmp_path):
    runner, wd = _run(tmp_path, [dict(type='EarlyBirdHook', interval=3, by_epoch=False,
                                       window=2, eps=1.0, begin=7)])
    eb = json.load(open(paths.early_bird_json(wd)))
    assert [r['converged'] for r in eb['records']] == [False, False, True, True]
    assert eb['final']['early_bird_step'] == 9 and not eb['final']['stopped_early']


@DATASETS.register_module(force=True)
class LTHToyNoTargets(LTHToyDataset):
    """Validation data without training targets (as mmpose's val pipeline gives)."""

    def __getitem__(self, i):
        return dict(inputs=self.inputs[i])


def test_val_loss_without_targets_fails_before_training(tmp_path):
    loader = dict(batch_size=8, num_workers=0, collate_fn=dict(type='default_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  dataset=dict(type='LTHToyNoTargets', n=8))
    cfg = toy_cfg(tmp_path / 'wd', custom_hooks=[dict(type='ValLossHook', dataloader=loader)])
    runner = build_runner(cfg)
    with pytest.raises(RuntimeError, match='GenerateTarget'):
        runner.train()
    # refused before the first training step: round 0 wrote no checkpoint
    assert not [f for f in os.listdir(tmp_path / 'wd' / 'round_0')
                if f.startswith(('epoch_', 'iter_', 'final'))]


def test_bad_hook_arguments_fail_before_training():
    from lth_mm.engine.hooks import EarlyBirdHook, ValLossHook
    with pytest.raises(ValueError, match='eps'):
        EarlyBirdHook(eps=2)
    with pytest.raises(ValueError, match='interval'):
        ValLossHook(interval=0)
