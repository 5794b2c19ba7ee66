# Copyright (c) lth_mm authors. All rights reserved.
"""The paper in miniature: the runs. Its main experiments on the synthetic demo task.

Runs (per seed; every run is ``tools/train.py`` in a subprocess, its log next to it):

* ``main``: dense (round 0), the keep-20 ticket with late reset (round 1) and the
  random-ticket and random-reinit controls at keep 20;
* ``keep50`` / ``keep10``: direct tickets pruned from ``main``'s dense model with
  ``tools/prune.py``, trained from ``main``'s late-reset snapshot (no second dense run);
* ``init20``: ``main``'s keep-20 ticket trained from the initialisation (reset to 0);
* ``iter3``: iterative pruning, 3 rounds to keep 20 (its own dense round 0);
* ``cls`` + ``transfer20``: the transfer experiment (paper Sec. 5) in small: an mmpretrain
  ResNet-18 classifier ticket (keep 20, ImageNet scope) on synthetic crops, its values and
  mask carried into the detector's backbone and fine-tuned with the mask held;
* ``bb20``: its direct counterpart, the detector's own ticket at the same backbone
  sparsity (``main``'s dense model pruned with ``prune_scope='backbone'``), late reset.

A run whose ``lottery_summary.json`` is complete is reused, so an interrupted benchmark
continues where it stopped. The report is :mod:`lth_mm.benchmark.miniature_report`.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import time

from lth_mm import paths
from lth_mm.zoo.configs import REPO

DEMO = 'configs/demo/mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py'
# The transfer chain (configs/transfer/README.md): classifier ticket -> DEMO's backbone.
CLS = 'configs/transfer/resnet18-w32_lth-keep20_synthetic-cls.py'
TRANSFER = 'configs/transfer/mask-rcnn_r18-w32_fpn_lth-imagenet-keep20_synthetic-easy.py'
# smoke: 8 training images (2 iterations an epoch), 1 epoch, 4 val images. Checks the
# plumbing end to end; its numbers mean nothing.
SMOKE_OPTIONS = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
                 'train_dataloader.dataset.indices=8', 'val_dataloader.dataset.indices=4',
                 'test_dataloader.dataset.indices=4']
TRANSFER_RUNS = ('cls', 'transfer20', 'bb20')


class Runner:
    """Runs the train / prune subprocesses of the seeds and prints progress.

    Args:
        config (str): the lottery config of the runs.
        options (list[str]): ``--cfg-options`` of every run.
        jobs (int): seeds trained at once (each gets cores / jobs threads).
        total (int): the number of runs, for the progress lines.
    """

    def __init__(self, config, options, jobs, total):
        self.config, self.options = config, list(options)
        self.total, self.done, self.t0 = total, 0, time.time()
        self.env = dict(os.environ)
        if jobs > 1 and 'OMP_NUM_THREADS' not in os.environ:
            # torch would start one thread per core in every run: oversubscribed.
            self.env['OMP_NUM_THREADS'] = str(max(1, (os.cpu_count() or 1) // jobs))

    def _progress(self, msg):
        elapsed = time.time() - self.t0
        print(f'[miniature {self.done}/{self.total} runs, {elapsed / 60:.1f} min] {msg}',
              flush=True)

    def _call(self, cmd, log):
        with open(log, 'w') as f:
            ret = subprocess.call(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                                  env=self.env)
        if ret:
            raise SystemExit(f'failed ({ret}): {" ".join(cmd)}\n  see {log}')

    def train(self, name, seed, work_dir, rounds, options, config=None):
        """Train one lottery run unless its summary already holds ``rounds`` rows."""
        summary = paths.summary_json(work_dir)
        if osp.isfile(summary) and len(json.load(open(summary))['rounds']) >= rounds:
            self.done += 1
            self._progress(f'{name} seed {seed}: reused {work_dir}')
            return
        self._progress(f'{name} seed {seed}: training {rounds} round(s) ...')
        os.makedirs(work_dir, exist_ok=True)
        t = time.time()
        self._call([sys.executable, 'tools/train.py', config or self.config, '--work-dir',
                    work_dir, '--cfg-options', f'randomness.seed={seed}',
                    f'lottery.seed={seed}', *options, *self.options],
                   osp.join(work_dir, 'miniature_train.log'))
        self.done += 1
        self._progress(f'{name} seed {seed}: done in {(time.time() - t) / 60:.1f} min')

    def prune(self, checkpoint, keep, out, seed, extra=()):
        """Prune a checkpoint into a ticket with tools/prune.py unless ``out`` exists."""
        if not osp.isfile(out):
            self._call([sys.executable, 'tools/prune.py', self.config, checkpoint,
                        '--keep-ratio', str(keep), '--out', out, *extra, '--cfg-options',
                        f'randomness.seed={seed}', *self.options], out + '.log')


def run_names(config):
    """The runs of one seed, in order (the transfer runs only derive from :data:`DEMO`)."""
    names = ['main', 'keep50', 'keep10', 'init20', 'iter3']
    return names + list(TRANSFER_RUNS) if config == DEMO else names


def run_seed(runner, seed, root):
    """All runs of one seed.

    Args:
        runner (Runner): the subprocess runner.
        seed (int): the seed.
        root (str): the benchmark's work_dir (``seed<s>/<run>`` below it).

    Returns:
        dict: run name -> work_dir.
    """
    d = {n: osp.join(root, f'seed{seed}', n) for n in run_names(runner.config)}
    runner.train('main', seed, d['main'], 4, [
        'lottery.rounds=2', 'lottery.keep_ratio=0.2',
        "lottery.controls=['random_ticket','random_reinit']"])
    dense = paths.final_checkpoint(d['main'], 0)
    snapshot = paths.snapshot(d['main'])
    for keep, name in ((0.5, 'keep50'), (0.1, 'keep10')):
        ticket = osp.join(root, f'seed{seed}', f'ticket_keep{int(keep * 100)}.pth')
        runner.prune(dense, keep, ticket, seed)
        runner.train(name, seed, d[name], 1, [
            f'lottery.ticket={ticket}', f'lottery.rewind_from={snapshot}',
            'lottery.rounds=1', 'lottery.keep_ratio=1.0', 'lottery.controls=[]'])
    # The same mask as main's round 1, from the initial weights (same seed = same init).
    runner.train('init20', seed, d['init20'], 1, [
        f'lottery.ticket={paths.ticket(d["main"], 1)}', 'lottery.rounds=1',
        'lottery.keep_ratio=1.0', 'lottery.controls=[]', 'lottery.rewind_epochs=None'])
    runner.train('iter3', seed, d['iter3'], 3, [
        'lottery.rounds=3', 'lottery.keep_ratio=0.2', 'lottery.controls=[]'])
    if 'cls' not in d:
        return d
    runner.train('cls', seed, d['cls'], 2, [], config=CLS)
    runner.train('transfer20', seed, d['transfer20'], 1, [
        f'model.backbone.init_cfg.checkpoint={paths.final_checkpoint(d["cls"], 0)}',
        f'lottery.transfer.source={paths.final_checkpoint(d["cls"], 1)}'], config=TRANSFER)
    ticket = osp.join(root, f'seed{seed}', 'ticket_backbone_keep20.pth')
    runner.prune(dense, 0.2, ticket, seed, extra=['--prune-scope', 'backbone'])
    runner.train('bb20', seed, d['bb20'], 1, [
        f'lottery.ticket={ticket}', f'lottery.rewind_from={snapshot}',
        'lottery.prune_scope=backbone', 'lottery.rounds=1', 'lottery.keep_ratio=1.0',
        'lottery.controls=[]'])
    return d


def run_all(config, seeds, root, options=(), jobs=1):
    """Every run of every seed (seeds in parallel when ``jobs`` > 1).

    Returns:
        dict: seed -> :func:`run_seed`'s dict.
    """
    from concurrent.futures import ThreadPoolExecutor
    runner = Runner(config, options, jobs, total=len(run_names(config)) * len(seeds))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:  # seeds are independent
        futures = {s: pool.submit(run_seed, runner, s, root) for s in seeds}
        return {s: f.result() for s, f in futures.items()}
