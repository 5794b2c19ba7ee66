"""The lottery engine end to end on a tiny model: rounds, masks, rewinding, resume, errors."""
import json
import os
import os.path as osp

import pytest
import torch

from mmengine.hooks import Hook

from _toy import (KillAt, LTHToyNet, LTHZeroCheckHook, build_runner, current_round,
                  ticket_masks, toy_cfg)
from lth_mm.engine import RewindError
from lth_mm.pruning import (LotteryConfigError, MaskSet, TicketError, load_ticket,
                            save_ticket, select_prunable)


def _masks_of(ckpt_path):
    ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=False)
    return MaskSet.from_state_dict(ckpt['lth_mm']['masks']), ckpt


def test_two_rounds_in_one_run_outputs_and_enforcement(tmp_path):
    runner = build_runner(toy_cfg(tmp_path))
    zero_check = LTHZeroCheckHook()  # registered on every round's Runner
    runner.register_hook(zero_check)
    runner.train()
    assert zero_check.checked == 12  # every step of round 1 (3 epochs x 4 iters) checked
    round_1_masks = ticket_masks(tmp_path, 1)

    # per-round directories, no overwrites, best checkpoint per round, tickets
    for r in (0, 1):
        files = os.listdir(tmp_path / f'round_{r}')
        assert {'epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'final.pth',
                'ticket.pth'} <= set(files)
        assert any(f.startswith('best_toy_accuracy') for f in files), files
    summary = json.loads((tmp_path / 'lottery_summary.json').read_text())
    rounds = summary['rounds']
    assert [r['round'] for r in rounds] == [0, 1]
    assert rounds[0]['prunable_sparsity'] == 0.0
    assert rounds[1]['prunable_sparsity'] == pytest.approx(0.7, abs=1e-3)
    assert 'toy/accuracy' in rounds[1]['metrics']
    assert rounds[1]['zero_fraction_of_prunable'] >= 0.7 - 1e-3

    # sparsity is computed from the masks; the network sparsity uses all parameters
    model = LTHToyNet()
    names = select_prunable(model)
    assert names == ['backbone.conv1.weight', 'backbone.conv2.weight', 'head.fc1.weight']
    prunable = sum(dict(model.named_parameters())[n].numel() for n in names)
    total = sum(p.numel() for p in model.parameters())
    pruned = prunable - round(0.3 * prunable)
    assert rounds[1]['network_sparsity'] == pytest.approx(pruned / total)

    ticket = load_ticket(str(tmp_path / 'round_1' / 'ticket.pth'))
    assert ticket.masks.prunable_sparsity() == pytest.approx(0.7, abs=1e-3)
    assert ticket.meta['planned_keep_ratio'] == pytest.approx(0.3)
    assert ticket.meta['keep_ratio'] == pytest.approx(0.3, abs=1e-3)  # from the masks
    assert ticket.meta['rewind']['iter'] == 2 and ticket.meta['scope']['scope'] == 'paper'

    # Every checkpoint of round 1 is pruned, and loads strictly into a plain model.
    for f in ('epoch_1.pth', 'final.pth'):
        masks, ckpt = _masks_of(tmp_path / 'round_1' / f)
        assert masks.equal(round_1_masks)
        for n, m in masks.items():
            assert torch.all(ckpt['state_dict'][n][~m] == 0)
        LTHToyNet().load_state_dict(ckpt['state_dict'], strict=True)


def test_rewound_weights_equal_the_snapshot_exactly(tmp_path):
    """The official VOC/ImageNet code rewound to live references (= final weights)."""
    seen = {}

    class Spy(Hook):
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            key = (current_round(runner), runner.iter)
            if key in {(0, 2), (1, 0)}:
                seen[key] = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
            if key == (0, 11):
                seen['final0'] = {k: v.detach().clone()
                                  for k, v in runner.model.state_dict().items()}

    runner = build_runner(toy_cfg(tmp_path))
    runner.register_hook(Spy())
    runner.train()
    masks = ticket_masks(tmp_path, 1).as_bool()
    snap = torch.load(tmp_path / 'rewind_snapshot.pth', weights_only=False)['state_dict']
    for k, v in seen[(0, 2)].items():
        assert torch.equal(snap[k], v), k  # snapshot = state after 2 steps of round 0
    for k, v in seen[(1, 0)].items():
        if k in masks:
            assert torch.equal(v[masks[k]], snap[k][masks[k]]), k  # unpruned: exact
            assert torch.all(v[~masks[k]] == 0)
        else:
            assert torch.equal(v, snap[k]), k  # biases, BN weights and buffers
    # ... and differ from the final weights of round 0 that the mask came from.
    assert not torch.equal(seen[(1, 0)]['head.fc1.weight'], seen['final0']['head.fc1.weight'])


def _final_state(work_dir):
    ckpt = torch.load(osp.join(work_dir, 'round_1', 'final.pth'), map_location='cpu',
                      weights_only=False)
    return ckpt['state_dict'], MaskSet.from_state_dict(ckpt['lth_mm']['masks'])


@pytest.mark.parametrize('kill_round,kill_epoch', [(1, 2), (0, 3)])
def test_kill_and_resume_matches_uninterrupted_run(tmp_path, kill_round, kill_epoch):
    ref_dir, run_dir = tmp_path / 'ref', tmp_path / 'run'
    build_runner(toy_cfg(ref_dir)).train()

    cfg = toy_cfg(run_dir)
    cfg.custom_hooks.append(dict(type='LTHKillHook', round=kill_round, epoch=kill_epoch))
    with pytest.raises(KillAt):
        build_runner(cfg).train()
    assert not (run_dir / 'round_1' / 'final.pth').exists()

    resumed = build_runner(toy_cfg(run_dir, resume=True))
    resumed.train()
    ref_state, ref_masks = _final_state(ref_dir)
    state, masks = _final_state(run_dir)
    assert masks.equal(ref_masks)
    for k in ref_state:
        assert torch.equal(state[k], ref_state[k]), k
    summary = json.loads((run_dir / 'lottery_summary.json').read_text())
    assert [r['round'] for r in summary['rounds']] == [0, 1]


def test_resume_between_rounds_does_not_reprune(tmp_path):
    """Kill after round 1 pruned but before its first checkpoint: the resume starts round 1
    again from its start file, and the ticket written before the kill stays as it was."""
    ref_dir, run_dir = tmp_path / 'ref', tmp_path / 'run'
    build_runner(toy_cfg(ref_dir)).train()
    cfg = toy_cfg(run_dir)
    cfg.custom_hooks.append(dict(type='LTHKillHook', round=1, epoch=0))
    with pytest.raises(KillAt):
        build_runner(cfg).train()
    assert not (run_dir / 'round_1' / 'last_checkpoint').exists()
    written = {f: (run_dir / 'round_1' / f).read_bytes() for f in ('ticket.pth', 'start.pth')}
    resumed = build_runner(toy_cfg(run_dir, resume=True))
    resumed.train()
    (state, masks), (ref_state, ref_masks) = _final_state(run_dir), _final_state(ref_dir)
    assert masks.equal(ref_masks)
    for k in ref_state:
        assert torch.equal(state[k], ref_state[k]), k
    for f, data in written.items():
        assert (run_dir / 'round_1' / f).read_bytes() == data, f


class OptimizerStateSpy(Hook):
    """Keeps, at the end of each round, the optimizer states of the masked weights."""
    priority = 'LOWEST'

    def __init__(self):
        self.states = {}

    def after_train(self, runner):
        params = dict(getattr(runner.model, 'module', runner.model).named_parameters())
        wrappers = runner.optim_wrapper.values() if hasattr(runner.optim_wrapper, 'values') \
            else [runner.optim_wrapper]
        self.states[current_round(runner)] = [
            {n: {k: v.clone() for k, v in w.optimizer.state.get(p, {}).items()
                 if isinstance(v, torch.Tensor)} for n, p in params.items()}
            for w in wrappers]


@pytest.mark.parametrize('optim_wrapper,extra_hooks,model', [
    (dict(optimizer=dict(type='AdamW', lr=0.01, weight_decay=0.05)), [], {}),
    (dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-2),
          clip_grad=dict(max_norm=0.5)), [dict(type='EMAHook', momentum=0.1)], {}),
    # mmengine's AmpOptimWrapper refuses to run without a GPU; the AMP path (GradScaler,
    # skipped steps) is tested on the enforcer itself in test_mask_enforcer.py.
    (dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, nesterov=True)), [],
     dict(frozen_stem=True)),
])
def test_masks_hold_with_optimizers_ema_clip_amp_frozen(tmp_path, optim_wrapper,
                                                        extra_hooks, model):
    cfg = toy_cfg(tmp_path, optim_wrapper=optim_wrapper,
                  model=dict(type='LTHToyNet', **model))
    cfg.custom_hooks.extend(extra_hooks)
    runner = build_runner(cfg)
    spy = OptimizerStateSpy()
    runner.register_hook(spy)
    runner.train()  # LTHZeroCheckHook asserts zeros after every step, EMA included
    masks = ticket_masks(tmp_path, 1).as_bool()
    state = torch.load(tmp_path / 'round_1' / 'final.pth', weights_only=False)
    for n, m in masks.items():
        assert torch.all(state['state_dict'][n][~m.cpu()] == 0)
        if 'ema_state_dict' in state:
            assert torch.all(state['ema_state_dict'][f'module.{n}'][~m.cpu()] == 0)
    # Optimizer state never accumulates at pruned positions (gradients are masked).
    checked = 0
    for n, m in masks.items():
        for key in ('momentum_buffer', 'exp_avg', 'exp_avg_sq'):
            buf = spy.states[1][0][n].get(key)
            if buf is not None:
                assert torch.all(buf[~m] == 0), (n, key)
                checked += 1
    assert checked >= len(masks) - 1  # frozen_stem: conv1 has no state


def test_controls_random_ticket_and_reinit(tmp_path):
    runner = build_runner(
        toy_cfg(tmp_path, lottery=dict(controls=['random_ticket', 'random_reinit'])))
    runner.train()
    ticket = load_ticket(str(tmp_path / 'round_1' / 'ticket.pth')).masks
    rnd = load_ticket(str(tmp_path / 'round_2' / 'ticket.pth'))
    reinit = load_ticket(str(tmp_path / 'round_3' / 'ticket.pth'))
    assert rnd.meta['kind'] == 'random_ticket' and reinit.meta['kind'] == 'random_reinit'
    assert not rnd.masks.equal(ticket)
    for n in ticket.names():  # same per-layer counts
        assert int(rnd.masks[n].sum()) == int(ticket[n].sum())
    assert reinit.masks.equal(ticket)
    summary = json.loads((tmp_path / 'lottery_summary.json').read_text())
    assert [r['kind'] for r in summary['rounds']] == ['dense', 'ticket', 'random_ticket',
                                                      'random_reinit']


def test_lr_rewinding_keeps_final_weights(tmp_path):
    seen = {}

    class Spy(Hook):
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if current_round(runner) == 1 and runner.iter == 0:
                seen['start1'] = runner.model.head.fc1.weight.detach().clone()
                seen['lr'] = runner.optim_wrapper.get_lr()['lr'][0]

    runner = build_runner(toy_cfg(tmp_path, lottery=dict(rewind_mode='lr')))
    runner.register_hook(Spy())
    runner.train()
    final0 = torch.load(tmp_path / 'round_0' / 'final.pth', weights_only=False)['state_dict']
    m = ticket_masks(tmp_path, 1)['head.fc1.weight'].bool()
    assert torch.equal(seen['start1'][m], final0['head.fc1.weight'][m])
    assert seen['lr'] == pytest.approx(0.05 * 0.5)  # warm-up restarted
    assert not (tmp_path / 'rewind_snapshot.pth').exists()


def test_continue_mode_starts_round_at_rewind_point(tmp_path):
    seen = []

    class Spy(Hook):
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if current_round(runner) == 1:
                seen.append((runner.iter, runner.optim_wrapper.get_lr()['lr'][0]))

    runner = build_runner(toy_cfg(tmp_path, lottery=dict(rewind_mode='continue',
                                                         rewind_iter=None, rewind_epochs=1)))
    runner.register_hook(Spy())
    runner.train()
    assert seen[0][0] == 4 and len(seen) == 8  # epochs 2-3 of 4 iterations
    assert seen[0][1] == pytest.approx(0.05)  # warm-up (3 iters) already over


def test_given_ticket_trains_that_mask(tmp_path):
    model = LTHToyNet()
    names = select_prunable(model)
    params = dict(model.named_parameters())
    g = torch.Generator().manual_seed(3)
    masks = MaskSet({n: torch.rand(params[n].shape, generator=g) > 0.6 for n in names})
    save_ticket(str(tmp_path / 'given.pth'), masks, {})
    runner = build_runner(toy_cfg(tmp_path / 'w', lottery=dict(
        rounds=1, keep_ratio=1.0, rewind_iter=None, ticket=str(tmp_path / 'given.pth'))))
    runner.train()
    assert ticket_masks(tmp_path / 'w', 0).equal(masks)
    state = torch.load(tmp_path / 'w' / 'round_0' / 'final.pth', weights_only=False)
    for n, m in masks.items():
        assert torch.all(state['state_dict'][n][~m] == 0)


# ------------------------------------------------------------------------- bad input
def _nothing_left(work_dir):
    """A refused first start leaves nothing behind (a corrected rerun can start)."""
    return not osp.exists(work_dir)


def test_rewind_beyond_round_length_fails_before_training(tmp_path):
    runner = build_runner(toy_cfg(tmp_path / 'w', lottery=dict(rewind_iter=12)))
    with pytest.raises(RewindError, match=r'beyond the length of a round \(12 iterations'):
        runner.train()
    assert _nothing_left(tmp_path / 'w')


def test_unfit_and_corrupt_tickets_fail_before_training(tmp_path):
    wrong = MaskSet({'backbone.conv1.weight': torch.ones(3, 3, dtype=torch.bool)})
    save_ticket(str(tmp_path / 'wrong.pth'), wrong, {})
    runner = build_runner(toy_cfg(tmp_path / 'a', lottery=dict(
        rounds=1, keep_ratio=1.0, rewind_iter=None, ticket=str(tmp_path / 'wrong.pth'))))
    with pytest.raises(TicketError, match='does not fit this model'):
        runner.train()
    assert _nothing_left(tmp_path / 'a')
    (tmp_path / 'bad.pth').write_bytes(b'\x00garbage')
    runner = build_runner(toy_cfg(tmp_path / 'b', lottery=dict(
        rounds=1, keep_ratio=1.0, rewind_iter=None, ticket=str(tmp_path / 'bad.pth'))))
    with pytest.raises(TicketError, match='truncated or corrupt'):
        runner.train()
    assert _nothing_left(tmp_path / 'b')


@pytest.mark.parametrize('lottery,match', [
    (dict(keep_ration=0.2), "did you mean 'keep_ratio'"),
    (dict(keep_ratio=1.2), r'keep_ratio must be in \(0, 1\]'),
    (dict(rounds=1, keep_ratio=0.2), 'rounds >= 2'),
])
def test_config_errors_before_the_runner_exists(tmp_path, lottery, match):
    with pytest.raises(LotteryConfigError, match=match):
        build_runner(toy_cfg(tmp_path / 'x', lottery=lottery))
    assert not (tmp_path / 'x').exists()  # nothing written


def test_fresh_run_refuses_to_overwrite_an_experiment_and_resume_of_finished_is_a_noop(
        tmp_path):
    build_runner(toy_cfg(tmp_path)).train()
    before = (tmp_path / 'round_1' / 'final.pth').stat().st_mtime_ns
    with pytest.raises(FileExistsError, match='already holds a lottery experiment'):
        build_runner(toy_cfg(tmp_path)).train()
    runner = build_runner(toy_cfg(tmp_path, resume=True))
    runner.train()  # everything finished: no round runs again
    assert (tmp_path / 'round_1' / 'final.pth').stat().st_mtime_ns == before
    assert len(runner.experiment.rows) == 2


def test_iter_based_loop_runs_rounds(tmp_path):
    cfg = toy_cfg(tmp_path, train_cfg=dict(by_epoch=False, max_iters=6, val_interval=3),
                  param_scheduler=None,
                  default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=3,
                                                     by_epoch=False)))
    runner = build_runner(cfg)
    runner.train()
    assert {'iter_3.pth', 'iter_6.pth'} <= set(os.listdir(tmp_path / 'round_1'))
    summary = json.loads((tmp_path / 'lottery_summary.json').read_text())
    assert len(summary['rounds']) == 2 and 'toy/accuracy' in summary['rounds'][1]['metrics']


def _tree_digest(root):
    """Every file under root with its content hash and mtime."""
    import hashlib
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = osp.join(dirpath, f)
            with open(p, 'rb') as fh:
                out[osp.relpath(p, root)] = (hashlib.sha256(fh.read()).hexdigest(),
                                             os.stat(p).st_mtime_ns)
    return out


def test_a_refused_run_leaves_every_file_of_the_experiment_unchanged(tmp_path):
    """Engine III defect 7: the refusal used to come after mmengine wrote its config copy."""
    build_runner(toy_cfg(tmp_path, lottery=dict(rounds=1, keep_ratio=1.0,
                                                rewind_iter=None))).train()
    before = _tree_digest(tmp_path)
    with pytest.raises(FileExistsError, match='already holds a lottery experiment'):
        build_runner(toy_cfg(tmp_path, lottery=dict(keep_ratio=0.5))).train()
    with pytest.raises(ValueError, match='settings differ'):  # resume with other settings
        build_runner(toy_cfg(tmp_path, lottery=dict(keep_ratio=0.5), resume=True)).train()
    assert _tree_digest(tmp_path) == before
