# Copyright (c) lth_mm authors. All rights reserved.
"""Validation loss per epoch (or per N iterations) for every lottery round.

mmdet's and mmpose's validation runs the model in ``predict`` mode and computes no loss, so
this hook makes its own pass over the validation data in ``loss`` mode (model in eval mode:
BatchNorm uses its running statistics, no gradient) and keeps the mean of each loss term:
in ``round_{r}/val_loss.json`` and as visualizer scalars ``val_loss/round_{r}/<term>``.
This is the convergence analysis of the paper (Fig. 10 and its appendix: dense vs ticket).
"""
import json
import os.path as osp
from collections import defaultdict
from typing import Optional

import torch
from mmengine.dist import all_reduce, is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from ... import paths
from ...fileio import atomic_write_json
from ..utils import preserved_rng, unwrap
from .lottery_round_hook import round_location


@HOOKS.register_module()
class ValLossHook(Hook):
    """Compute the validation loss every ``interval`` epochs (or iterations).

    Args:
        interval: every this many epochs (epoch-based loops) or iterations (iteration-based).
        dataloader: a dataloader config to compute the loss on instead of the validation
            dataloader; needed where the validation pipeline builds no training targets
            (mmpose: add ``GenerateTarget`` to a copy of the val pipeline).
        max_batches: stop after this many batches (None: the whole set).
    """
    priority = 'NORMAL'

    def __init__(self, interval: int = 1, dataloader: Optional[dict] = None,
                 max_batches: Optional[int] = None):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'ValLossHook interval must be an integer >= 1, got {interval!r}.')
        self.interval = interval
        self.dataloader_cfg = dataloader
        self.max_batches = max_batches
        self._loader = None
        self._checked = False
        self.round = 0
        self.records = []

    def _dataloader(self, runner):
        if self._loader is None:
            if self.dataloader_cfg is not None:
                self._loader = runner.build_dataloader(self.dataloader_cfg, seed=runner.seed)
            elif getattr(runner, 'val_loop', None) is not None:
                self._loader = runner.val_loop.dataloader
            else:
                raise ValueError('ValLossHook needs validation data: set val_dataloader/'
                                 'val_cfg/val_evaluator, or give ValLossHook(dataloader=...).')
        return self._loader

    def before_train(self, runner) -> None:
        """Check, on one batch, that the model computes a loss on this data; pick up the
        records a resumed round made before its interruption."""
        if not self._checked:
            self._checked = True
            self._val_loss(runner, max_batches=1)
        self.experiment_dir, self.round = round_location(runner)
        self.kind = round_location(runner, 'kind')
        self.records = []
        path = paths.val_loss_json(self.experiment_dir, self.round)
        if osp.isfile(path):  # an earlier attempt of this round: keep what it reached
            with open(path) as f:
                self.records = [r for r in json.load(f).get('records', [])
                                if r['iter'] <= runner.iter]

    def after_train_epoch(self, runner) -> None:
        if isinstance(runner.train_loop, EpochBasedTrainLoop) and \
                (runner.epoch + 1) % self.interval == 0:
            self._record(runner, step=runner.epoch + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not isinstance(runner.train_loop, EpochBasedTrainLoop) and \
                (runner.iter + 1) % self.interval == 0:
            self._record(runner, step=runner.iter + 1)

    def _record(self, runner, step: int) -> None:
        losses = self._val_loss(runner, self.max_batches)
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        rec = dict(epoch=step if by_epoch else None, iter=runner.iter + 1, **losses)
        self.records = [r for r in self.records if r['iter'] != rec['iter']] + [rec]
        runner.visualizer.add_scalars(
            {f'val_loss/round_{self.round}/{k}': v for k, v in losses['losses'].items()},
            step=step)
        runner.logger.info(f'[val loss] round {self.round} {"epoch" if by_epoch else "iter"} '
                           f'{step}: loss={losses["loss"]:.4f}')
        if is_main_process():
            atomic_write_json(dict(round=self.round, by_epoch=by_epoch,
                                   kind=self.kind, records=self.records),
                              paths.val_loss_json(self.experiment_dir, self.round))

    def _val_loss(self, runner, max_batches: Optional[int]) -> dict:
        """Mean of every loss term over the data (weighted by batch size, all ranks)."""
        model = unwrap(runner.model)
        loader = self._dataloader(runner)
        was_training = model.training
        model.eval()
        sums, count = defaultdict(float), 0
        try:
            with torch.no_grad(), preserved_rng():
                for i, batch in enumerate(loader):
                    if max_batches is not None and i >= max_batches:
                        break
                    try:
                        data = model.data_preprocessor(batch, True)
                        loss_dict = model(**data, mode='loss') if isinstance(data, dict) \
                            else model(*data, mode='loss')
                        _, log_vars = model.parse_losses(loss_dict)
                    except (KeyError, AttributeError, TypeError, ValueError, IndexError) as e:
                        raise RuntimeError(
                            f'ValLossHook: the model cannot compute its loss on this data '
                            f'({type(e).__name__}: {e}). The validation pipeline must load '
                            'the annotations and build the training targets (mmpose: '
                            'GenerateTarget); give ValLossHook(dataloader=dict(...)) with '
                            'such a pipeline.') from e
                    n = len(batch['inputs']) if isinstance(batch, dict) else 1
                    for k, v in log_vars.items():
                        sums[k] += float(v) * n
                    count += n
        finally:
            model.train(was_training)
        keys = sorted(sums)
        t = torch.tensor([sums[k] for k in keys] + [float(count)], dtype=torch.float64)
        all_reduce(t)  # a no-op without distributed training
        total = max(float(t[-1]), 1.0)
        means = {k: float(v) / total for k, v in zip(keys, t[:-1])}
        return dict(loss=means.get('loss', float('nan')), losses=means, samples=int(t[-1]))
