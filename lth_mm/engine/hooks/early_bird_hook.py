# Copyright (c) lth_mm authors. All rights reserved.
"""Early-bird tracking in round 0: when is the ticket's mask decided? (You et al., 2020)

At every ``interval`` epochs (or iterations) of the dense round the hook computes the mask
that pruning at the target keep ratio would produce now (the lottery's criterion and
prune scope, :func:`lth_mm.pruning.compute_masks`), and logs its normalised Hamming
distance to the previous ones and its IoU with the previous one. When round 0 ends it adds
the IoU of each of them with the final mask and the epoch from which that IoU stays
>= ``iou_threshold``. With ``stop=True`` it ends round 0 as soon as You et al.'s rule holds
(every distance in a FIFO of ``window`` masks <= ``eps``): the next round prunes from the
weights at that point, the early-bird ticket, at the reported fraction of the dense cost.
Everything goes to ``work_dir/early_bird.json`` (:func:`lth_mm.paths.early_bird_json`).
"""
import json
import os.path as osp
from typing import Optional

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import EpochBasedTrainLoop

from ... import paths
from ...analysis.early_bird import EarlyBirdTracker, packed_iou, stable_from
from ...fileio import atomic_write_json
from ...pruning import CRITERIA, LotterySettings, compute_masks, select_prunable
from ...report import add_round_extras
from ..utils import unwrap
from .lottery_round_hook import round_location


@HOOKS.register_module()
class EarlyBirdHook(Hook):
    """Track the round-0 mask; optionally stop round 0 at the early-bird ticket.

    Args:
        interval: every this many epochs (epoch-based) or iterations (iteration-based).
        eps: You et al.'s distance threshold (normalised Hamming distance).
        window: FIFO length of the rule (the newest mask and the previous ``window - 1``).
        stop: end round 0 when the rule holds (the early-bird ticket).
        iou_threshold: the IoU with the final mask that defines "decided".
        keep_ratio: target keep ratio (None: the first pruned round's, from ``lottery``).
        by_epoch: count ``interval`` in epochs (True) or iterations (False); None: as the
            training loop does. Iterations in an epoch-based loop give finer tracking of
            short schedules (a stop then takes effect at the end of the epoch).
        begin: apply the rule only from this step (epoch or iteration) on: during an LR
            warm-up the weights, hence the masks, barely move, and a fine ``interval``
            would see them "converged" at once. Masks are recorded from the start.
    """
    # NORMAL: after LotteryRoundHook's final evaluation; its summary fields are read by the
    # orchestrator once the round's Runner has finished
    # writes the row; round 0 is dense, so there are no masks to wait for.
    priority = 'NORMAL'

    def __init__(self, interval: int = 1, eps: float = 0.1, window: int = 5,
                 stop: bool = False, iou_threshold: float = 0.95,
                 keep_ratio: Optional[float] = None, by_epoch: Optional[bool] = None,
                 begin: int = 0):
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'EarlyBirdHook interval must be an integer >= 1, '
                             f'got {interval!r}.')
        if keep_ratio is not None and not 0 < keep_ratio < 1:
            raise ValueError(f'EarlyBirdHook keep_ratio must be in (0, 1), got {keep_ratio!r}.')
        EarlyBirdTracker(eps, window)  # validates eps and window now, before training
        self.interval, self.eps, self.window = interval, eps, window
        self.stop, self.iou_threshold, self.keep_ratio = stop, iou_threshold, keep_ratio
        self.by_epoch_arg = by_epoch
        self.begin = int(begin)
        self.active = False

    # ------------------------------------------------------------------ round 0 only
    def before_train(self, runner) -> None:
        self.experiment_dir, lottery_round = round_location(runner)
        kind = round_location(runner, 'kind')
        self.active = lottery_round == 0 and kind in (None, 'dense')
        if not self.active:
            return
        settings = LotterySettings.from_dict(runner.cfg.get('lottery'))
        ratios = settings.keep_ratios()
        keep = self.keep_ratio or (ratios[1] if len(ratios) > 1 else settings.keep_ratio)
        # A random criterion has no "mask of now", and a structured one needs the model's
        # channel graph at every record: track the (unstructured) magnitude mask instead.
        entry = CRITERIA.get(settings.criterion_name)
        tracked = getattr(entry, 'random', False) or getattr(entry, 'structured', False)
        self.criterion = 'global_magnitude' if tracked else settings.criterion
        self.keep = float(keep)
        self.names = select_prunable(unwrap(runner.model), **settings.scope_dict)
        self.tracker = EarlyBirdTracker(self.eps, self.window)
        self.history, self.records, self.early_bird = [], [], None
        epoch_loop = isinstance(runner.train_loop, EpochBasedTrainLoop)
        if self.by_epoch_arg and not epoch_loop:
            raise ValueError('EarlyBirdHook(by_epoch=True) needs an epoch-based train loop; '
                             'use by_epoch=None or False with iteration-based training.')
        self.by_epoch = epoch_loop if self.by_epoch_arg is None else bool(self.by_epoch_arg)
        path = paths.early_bird_json(self.experiment_dir)
        if osp.isfile(path):  # an earlier attempt of round 0: keep what it reached
            # The masks themselves are not saved: the FIFO restarts at the resume point.
            with open(path) as f:
                self.records = [r for r in json.load(f).get('records', [])
                                if r['iter'] <= runner.iter]
            for r in self.records:
                r['mask_lost'] = True

    def after_train_epoch(self, runner) -> None:
        if self.active and self.by_epoch and (runner.epoch + 1) % self.interval == 0:
            self._record(runner, runner.epoch + 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.active and not self.by_epoch and (runner.iter + 1) % self.interval == 0:
            self._record(runner, runner.iter + 1)

    def _mask_now(self, runner) -> np.ndarray:
        params = dict(unwrap(runner.model).named_parameters())
        weights = {n: params[n].detach() for n in self.names}
        ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
        masks = compute_masks(self.criterion, weights, ones, self.keep)
        return torch.cat([masks[n].flatten().cpu() for n in self.names]).numpy()

    def _record(self, runner, step: int) -> None:
        bits = self._mask_now(runner)
        self.n = bits.size
        packed = np.packbits(bits)
        decision = self.tracker.update(bits)
        decision['converged'] = decision['converged'] and step >= self.begin
        rec = dict(step=step, iter=runner.iter + 1, distances=decision['distances'],
                   max_distance=decision['max_distance'], converged=decision['converged'],
                   iou_prev=packed_iou(packed, self.history[-1][1], self.n)
                   if self.history else None)
        self.history.append((len(self.records), packed))
        self.records.append(rec)
        if decision['converged'] and self.early_bird is None:
            self.early_bird = rec
            runner.logger.info(
                f'[early bird] the mask has converged at {self._unit()} {step} '
                f'(max distance {decision["max_distance"]:.4f} <= {self.eps} over '
                f'{self.window} masks)' + ('; stopping round 0.' if self.stop else '.'))
            if self.stop:
                runner.train_loop.stop_training = True
        runner.visualizer.add_scalars(
            {'early_bird/iou_prev': rec['iou_prev'] if rec['iou_prev'] is not None else 0.0},
            step=step)
        self._write(runner, final=None)

    def _unit(self) -> str:
        return 'epoch' if self.by_epoch else 'iteration'

    def after_train(self, runner) -> None:
        """IoU of every recorded mask with the final one; the decided point; the saving."""
        if not self.active:
            return
        self.active = False
        final = np.packbits(self._mask_now(runner))
        n = sum(int(np.prod(p.shape)) for name, p in unwrap(runner.model).named_parameters()
                if name in self.names)
        ious = [None] * len(self.records)
        for i, packed in self.history:
            ious[i] = packed_iou(packed, final, n)
            self.records[i]['iou_final'] = ious[i]
        known = [(self.records[i]['step'], v) for i, v in enumerate(ious) if v is not None]
        first = stable_from([v for _, v in known], self.iou_threshold)
        loop = runner.train_loop
        planned = loop.max_epochs if self.by_epoch else loop.max_iters
        trained = runner.epoch if self.by_epoch else runner.iter
        eb = self.early_bird
        summary = dict(
            unit=self._unit(), planned=planned, trained=trained,
            stopped_early=bool(self.stop and eb is not None and trained < planned),
            early_bird_step=eb['step'] if eb else None,
            # The dense training an early-bird ticket costs, as a fraction of round 0's.
            early_bird_cost_fraction=(eb['step'] / planned) if eb else None,
            stable_step=known[first][0] if first is not None else None,
            stable_cost_fraction=(known[first][0] / planned) if first is not None else None,
            iou_threshold=self.iou_threshold)
        add_round_extras(runner.message_hub,
                         early_bird_step=summary['early_bird_step'],
                         early_bird_cost_fraction=summary['early_bird_cost_fraction'],
                         early_bird_stopped=summary['stopped_early'])
        runner.logger.info('[early bird] ' + ', '.join(f'{k}={v}' for k, v in summary.items()))
        self._write(runner, final=summary)

    def _write(self, runner, final: Optional[dict]) -> None:
        if not is_main_process():
            return
        atomic_write_json(dict(settings=dict(keep_ratio=self.keep, criterion=self.criterion,
                                             eps=self.eps, window=self.window, stop=self.stop,
                                             begin=self.begin,
                                             interval=self.interval, unit=self._unit(),
                                             num_weights=getattr(self, 'n', None)),
                               records=self.records, final=final),
                          paths.early_bird_json(self.experiment_dir))
