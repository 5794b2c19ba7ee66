"""Distributed runs (2 CPU processes, gloo): every rank holds the same masks."""
import os
import os.path as osp
import socket
import subprocess
import sys

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


DUMP_HOOK = '''
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.dist import get_rank

@HOOKS.register_module(force=True)
class LTHDumpMasksHook(Hook):
    def __init__(self, out_dir):
        self.out_dir = out_dir

    def after_train(self, runner):
        h = [h for h in runner.hooks if type(h).__name__ == 'LotteryHook'][0]
        torch.save(h.masks.state_dict(), f'{self.out_dir}/masks_rank{get_rank()}.pt')
'''


def test_two_process_lottery_run_through_tools_train(tmp_path):
    """tools/train.py --launcher pytorch with torchrun: 2 ranks, DDP on CPU, gloo."""
    sys.path.insert(0, osp.join(REPO, 'tests'))
    from _toy import toy_cfg
    (tmp_path / 'lth_dump_hook.py').write_text(DUMP_HOOK)
    cfg = toy_cfg(tmp_path / 'work', env_cfg=dict(dist_cfg=dict(backend='gloo')))
    cfg.custom_imports = dict(imports=['_toy', 'lth_dump_hook'], allow_failed_imports=False)
    cfg.custom_hooks.append(dict(type='LTHDumpMasksHook', out_dir=str(tmp_path)))
    cfg.train_dataloader.batch_size = 4  # same total batch over 2 ranks
    cfg_path = str(tmp_path / 'toy_lottery.py')
    cfg.dump(cfg_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([osp.join(REPO, 'tests'),
                                                      str(tmp_path)]),
               OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           f'--master_port={_free_port()}', osp.join(REPO, 'tools', 'train.py'), cfg_path,
           '--launcher', 'pytorch']
    proc = subprocess.run(cmd, env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    m0 = torch.load(tmp_path / 'masks_rank0.pt')
    m1 = torch.load(tmp_path / 'masks_rank1.pt')
    assert m0['names'] == m1['names']
    for a, b in zip(m0['bits'], m1['bits']):
        assert torch.equal(a, b)
    assert (tmp_path / 'work' / 'lottery_summary.json').exists()
