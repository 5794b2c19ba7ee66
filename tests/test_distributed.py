"""Distributed runs (2 CPU processes, gloo): every rank holds the same masks."""
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from lth_mm.engine.utils import broadcast_masks
from lth_mm.pruning import global_magnitude

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _prune_worker(rank, world, port, out_dir):
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=world)
    g = torch.Generator().manual_seed(100 + rank)  # ranks disagree on the weights
    w = {'a': torch.randn(20, 20, generator=g), 'b': torch.randn(300, generator=g)}
    local = global_magnitude(w, {n: torch.ones_like(t, dtype=torch.bool)
                                 for n, t in w.items()}, 0.2)
    shared = broadcast_masks(local)
    torch.save(dict(local=local, shared=shared), osp.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_masks_are_broadcast_from_rank0(tmp_path):
    mp.spawn(_prune_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / 'rank0.pt')
    r1 = torch.load(tmp_path / 'rank1.pt')
    # Locally computed masks differ (different weights) ...
    assert any(not torch.equal(r0['local'][n], r1['local'][n]) for n in r0['local'])
    # ... after the broadcast every rank holds rank 0's masks.
    for n in r0['local']:
        assert torch.equal(r1['shared'][n], r0['local'][n])
        assert torch.equal(r0['shared'][n], r0['local'][n])


DIST_HOOKS = '''
import json

import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.dist import get_rank

from lth_mm.engine import round_info


@HOOKS.register_module(force=True)
class LTHPerRankNoiseHook(Hook):
    """Per-rank random streams: rank r draws r + 1 numbers a step from the global RNG and
    perturbs its inputs with the last one (as per-rank data augmentation does)."""
    priority = 'HIGHEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        for _ in range(get_rank() + 1):
            x = torch.rand(())
        data_batch['inputs'] = data_batch['inputs'] + 0.1 * x


@HOOKS.register_module(force=True)
class LTHKillIterHook(Hook):
    priority = 'LOWEST'

    def __init__(self, round, it):
        self.round, self.it = round, it

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if round_info(runner)['round'] == self.round and runner.iter + 1 == self.it:
            raise SystemExit(3)


@HOOKS.register_module(force=True)
class LTHDumpRankHook(Hook):
    def __init__(self, out_dir):
        self.out_dir = out_dir

    def after_train(self, runner):
        info = round_info(runner)
        if info['round'] != 1:
            return
        h = [h for h in runner.hooks if type(h).__name__ == 'TicketMaskHook'][0]
        with open(f"{info['experiment_dir']}/lottery_summary.json") as f:
            rewind_iter = json.load(f)['rewind_iter']
        torch.save(dict(masks=h.masks.state_dict(), rewind_iter=rewind_iter),
                   f'{self.out_dir}/rank{get_rank()}.pt')
'''


def _toy_config(tmp_path, name, extra_hooks, iter_based=True):
    """Write the toy lottery config ``tmp_path/<name>.py`` (2-rank runs of it: gloo)."""
    sys.path.insert(0, osp.join(REPO, 'tests'))
    from _toy import toy_cfg
    (tmp_path / 'lth_dist_hooks.py').write_text(DIST_HOOKS)
    cfg = toy_cfg(tmp_path / name, env_cfg=dict(dist_cfg=dict(backend='gloo')),
                  lottery=dict(rewind_iter=None, rewind_epochs=1))
    cfg.custom_imports = dict(imports=['_toy', 'lth_dist_hooks'], allow_failed_imports=False)
    cfg.custom_hooks += extra_hooks
    cfg.train_dataloader.batch_size = 4
    if iter_based:
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=8, val_interval=4)
        cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
        cfg.param_scheduler = [dict(type='MultiStepLR', milestones=[6], by_epoch=False)]
    cfg_path = str(tmp_path / f'{name}.py')
    cfg.dump(cfg_path)
    return cfg_path


def _train(tmp_path, cfg_path, ranks=2, resume=False):
    """tools/train.py on ``cfg_path``: on 2 ranks through torchrun, or as one process."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([osp.join(REPO, 'tests'),
                                                      str(tmp_path)]),
               OMP_NUM_THREADS='1')
    train = [osp.join(REPO, 'tools', 'train.py'), cfg_path]
    if ranks > 1:
        cmd = [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={ranks}',
               f'--master_port={_free_port()}'] + train + ['--launcher', 'pytorch']
    else:
        cmd = [sys.executable] + train
    return subprocess.run(cmd + (['--resume'] if resume else []), env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=600)


def _torchrun_toy(tmp_path, name, extra_hooks, iter_based=True, resume=False):
    """Run the toy lottery config on 2 gloo ranks through tools/train.py."""
    cfg_path = _toy_config(tmp_path, name, extra_hooks, iter_based)
    return _train(tmp_path, cfg_path, resume=resume), tmp_path / name


class TwoRankRuns:
    """The iteration-based toy lottery on 2 ranks with per-rank random streams, run once
    to the end (``ref``: both ranks dump their round-1 masks into ``root``) and once
    killed in round 1 after iteration 4 (``run``). Each torchrun costs seconds of start-up
    on top of the training, so the tests share these two runs."""

    NOISE = [dict(type='LTHPerRankNoiseHook')]

    def __init__(self, root):
        self.root = root
        self.ref_proc, self.ref = _torchrun_toy(
            root, 'ref', self.NOISE + [dict(type='LTHDumpRankHook', out_dir=str(root))])
        self.killed_proc, self.run = _torchrun_toy(
            root, 'run', self.NOISE + [dict(type='LTHKillIterHook', round=1, it=4)])
        self._killed = root / 'killed_copy'
        shutil.copytree(self.run, self._killed)

    def killed_run(self):
        """The killed run as the crash left it, at its own path (checkpoints and the
        resume pointer name absolute paths), whatever an earlier test resumed there."""
        shutil.rmtree(self.run)
        shutil.copytree(self._killed, self.run)
        return self.run


@pytest.fixture(scope='module')
def two_rank_runs(tmp_path_factory):
    return TwoRankRuns(tmp_path_factory.mktemp('two_ranks'))


def test_two_rank_iteration_based_infinite_sampler_rewind_and_rank0_masks(two_rank_runs):
    """InfiniteSampler, rewind_epochs=1 on 2 ranks: k = ceil(32 / (2 x 4)) = 4, not 8; and
    both ranks train rank 0's masks (written by rank 0, broadcast again when loaded)."""
    proc, work, root = two_rank_runs.ref_proc, two_rank_runs.ref, two_rank_runs.root
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r0, r1 = (torch.load(root / f'rank{r}.pt') for r in (0, 1))
    assert r0['rewind_iter'] == r1['rewind_iter'] == 4
    assert torch.load(work / 'rewind_snapshot.pth', weights_only=False)['meta']['iter'] == 4
    assert r0['masks']['names'] == r1['masks']['names']
    for a, b in zip(r0['masks']['bits'], r1['masks']['bits']):
        assert torch.equal(a, b)
    from lth_mm.pruning import MaskSet, load_ticket
    assert MaskSet.from_state_dict(r1['masks']).equal(
        load_ticket(str(work / 'round_1' / 'ticket.pth')).masks)
    assert MaskSet.from_state_dict(r1['masks']).prunable_sparsity() > 0


def test_two_rank_kill_and_resume_is_exact_with_per_rank_random_streams(two_rank_runs):
    runs = two_rank_runs
    assert runs.ref_proc.returncode == 0, runs.ref_proc.stderr[-3000:]
    run = runs.killed_run()
    assert runs.killed_proc.returncode != 0 and not (run / 'round_1' / 'final.pth').exists()
    proc, run = _torchrun_toy(runs.root, 'run', runs.NOISE, resume=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    a = torch.load(runs.ref / 'round_1' / 'final.pth', weights_only=False)
    b = torch.load(run / 'round_1' / 'final.pth', weights_only=False)
    for k, v in a['state_dict'].items():
        assert torch.equal(v, b['state_dict'][k]), k
    mid = torch.load(run / 'round_1' / 'iter_6.pth', weights_only=False)
    assert len(mid['lth_mm']['rng_states']) == 2  # one random state per rank


def test_two_process_epoch_based_lottery_run_through_tools_train(tmp_path):
    """tools/train.py --launcher pytorch with torchrun: 2 ranks, DDP on CPU, gloo."""
    proc, work = _torchrun_toy(tmp_path, 'w', [dict(type='LTHDumpRankHook',
                                                    out_dir=str(tmp_path))], iter_based=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pt') for r in (0, 1))
    assert r0['masks']['names'] == r1['masks']['names']
    for a, b in zip(r0['masks']['bits'], r1['masks']['bits']):
        assert torch.equal(a, b)
    assert (work / 'lottery_summary.json').exists()


def test_kill_on_two_ranks_resume_on_one_keeps_the_rewind_point_and_tickets(two_rank_runs):
    """Engine III defect 3: the resume recomputed the rewind point from its own world size
    (4 iterations per pass on 2 ranks, 8 on 1) and rewrote later tickets from it."""
    runs = two_rank_runs
    run = runs.killed_run()
    assert runs.killed_proc.returncode != 0 and not (run / 'round_1' / 'final.pth').exists()
    assert json.loads((run / 'lottery_summary.json').read_text())['rewind_iter'] == 4
    written = {p: (run / p).read_bytes() for p in ('rewind_snapshot.pth', 'round_0/ticket.pth',
                                                   'round_1/ticket.pth', 'round_1/start.pth')}
    # the killed run's own config (the kill hook cannot fire again: it resumes after it)
    cfg_path = _toy_config(runs.root, 'run', runs.NOISE + [dict(type='LTHKillIterHook',
                                                                round=1, it=4)])
    proc = _train(runs.root, cfg_path, ranks=1, resume=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((run / 'lottery_summary.json').read_text())
    assert summary['rewind_iter'] == 4
    assert [r['rewind_iter'] for r in summary['rounds']] == [4, 4]
    for p, data in written.items():
        assert (run / p).read_bytes() == data, p
