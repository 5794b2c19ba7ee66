# Copyright (c) lth_mm authors. All rights reserved.
"""Train loops that run every round of a lottery experiment in one ``Runner.train()`` call.

The loops own the round counter and only fire events; the hooks do the rest. A round is a
complete, fresh run of the user's loop:

1. fresh training state (rounds after the first run in this process): counters at 0, a
   new optimizer built from the config (the paper retrains "with a fresh optimizer"), the
   full LR schedule, every other hook's state as before round 0
   (:class:`~lth_mm.engine.fresh_run.HookStates`), and a data stream in round 0's order;
2. ``before_train`` for every hook (each round is a run of the loop);
3. ``before_lottery_round(lottery_round, resumed)``: the ``LotteryHook`` prunes, rewinds
   and applies the masks; it may publish ``lottery/start_iter`` (open_lth's ``continue``
   mode) in the message hub, and the loop fast-forwards the schedule there;
4. the user's epochs/iterations with their validation schedule; ``stop_training`` (set by
   ``EarlyStoppingHook`` and the like) ends the round;
5. ``after_lottery_round(lottery_round, metrics)`` with the round's last evaluation.

After the last round: ``after_train``. The round index and phase live in the message hub's
runtime info (``lottery/round``, ``lottery/round_phase``), which mmengine saves in every
checkpoint, so ``--resume`` continues mid-round or at the next round.
"""
import copy
import warnings
from typing import Optional

from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from ..fresh_run import (CHECKPOINT_RUNTIME_KEYS, HookStates, restart_data_stream,
                          sampler_seed, set_sampler_seed)
from ..utils import preserved_rng

ROUND_KEY = 'lottery/round'
PHASE_KEY = 'lottery/round_phase'
START_ITER_KEY = 'lottery/start_iter'
SAMPLER_SEED_KEY = 'lottery/sampler_seed'
# Phases of a round, as saved in checkpoints.
TRAINING, DONE = 'training', 'done'


class _LotteryLoopMixin:
    """Round logic shared by the epoch- and iteration-based lottery loops."""

    def __init__(self, runner, dataloader, num_rounds: Optional[int] = None, **kwargs):
        super().__init__(runner, dataloader, **kwargs)
        if not isinstance(num_rounds, int) or num_rounds < 1:
            raise ValueError(
                f'{type(self).__name__} needs num_rounds >= 1, got {num_rounds!r}. Use '
                "runner_type='LotteryRunner' (set by configs/_base_/lottery.py), which sets "
                'it from the `lottery` config block.')
        self.num_rounds = num_rounds

    def run(self):
        """Run every remaining round, then ``after_train``."""
        runner = self.runner
        hub = runner.message_hub
        if getattr(runner, '_resume', False) and getattr(runner, '_has_loaded', False):
            if hub.get_info(SAMPLER_SEED_KEY) is not None:
                set_sampler_seed(self.dataloader, hub.get_info(SAMPLER_SEED_KEY))
        else:
            # Not resumed: a MessageHub is shared by runners built in the same second
            # (mmengine names it by a timestamp), so drop what another run left there.
            for key in list(hub.runtime_info):
                if key.startswith(('lottery/',) + CHECKPOINT_RUNTIME_KEYS):
                    hub.runtime_info.pop(key)
            hub.update_info(SAMPLER_SEED_KEY, sampler_seed(self.dataloader))
        r = int(hub.get_info(ROUND_KEY, 0))
        phase = hub.get_info(PHASE_KEY, None)
        if phase == DONE:  # resumed from a round's final checkpoint
            r, phase = r + 1, None
        states = HookStates(runner)
        first = True
        while r < self.num_rounds:
            resumed = phase == TRAINING
            if not resumed and not (first and r == 0):
                self._fresh_training_state()
                states.restore(runner)
            if resumed:  # replay the round's batches before its random states return
                self._reset_data_iterator(skip=self._iter)
            hub.update_info(ROUND_KEY, r)
            hub.update_info(PHASE_KEY, TRAINING)
            hub.update_info(START_ITER_KEY, 0)
            runner.call_hook('before_train')
            runner.call_hook('before_lottery_round', lottery_round=r, resumed=resumed)
            if not resumed:  # a new stream in round 0's order, after the states are set
                restart_data_stream(self.dataloader)
                self._reset_data_iterator()
                start = int(hub.get_info(START_ITER_KEY, 0) or 0)
                if start:
                    self._fast_forward(start)
            metrics = self._train_round()
            hub.update_info(PHASE_KEY, DONE)
            runner.call_hook('after_lottery_round', lottery_round=r, metrics=metrics or {})
            r, phase, first = r + 1, None, False
        runner.call_hook('after_train')
        return runner.model

    # ------------------------------------------------------------------ per-round state
    def _fresh_training_state(self) -> None:
        """Counters to zero, a new optimizer from the config, the full LR schedule."""
        runner = self.runner
        self._epoch = 0
        self._iter = 0
        self.stop_training = False
        # scale_lr must run before the schedulers are built (they record the initial lr).
        runner.param_schedulers = copy.deepcopy(runner.cfg.get('param_scheduler'))
        runner.optim_wrapper = runner.build_optim_wrapper(
            copy.deepcopy(runner.cfg.optim_wrapper))
        runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
        if runner.param_schedulers is not None:
            runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
        runner.optim_wrapper.initialize_count_status(runner.model, 0, self.max_iters)

    def _reset_data_iterator(self, skip: int = 0) -> None:
        """Epoch-based loops iterate the dataloader afresh each epoch: nothing to do."""

    def _fast_forward(self, k: int) -> None:
        """Continue the schedule from iteration ``k`` instead of 0 (open_lth's continue)."""
        loop_ipe = len(self.dataloader)
        self._iter = k
        if isinstance(self, EpochBasedTrainLoop):
            if k % loop_ipe:
                raise ValueError(f'cannot start an epoch-based round at iteration {k}: not '
                                 f'an epoch boundary ({loop_ipe} iterations per epoch).')
            self._epoch = k // loop_ipe
        # Iteration-based rounds read the data stream from its start, like every round.
        with warnings.catch_warnings():
            # Fast-forwarding calls scheduler.step() before any optimizer.step(): intended.
            warnings.simplefilter('ignore', UserWarning)
            for scheduler in _flatten_schedulers(self.runner.param_schedulers):
                steps = (k // loop_ipe if scheduler.by_epoch else k)
                for _ in range(steps):
                    scheduler.step()
        self.runner.optim_wrapper.initialize_count_status(self.runner.model, k, self.max_iters)
        self.runner.logger.info(f'[lottery] the round starts at iteration {k} of the schedule.')

    def _validate(self) -> Optional[dict]:
        """Evaluate without perturbing the training random streams."""
        with preserved_rng():
            return self.runner.val_loop.run()


@LOOPS.register_module()
class LotteryEpochBasedTrainLoop(_LotteryLoopMixin, EpochBasedTrainLoop):
    """:class:`~mmengine.runner.EpochBasedTrainLoop` over every lottery round.

    Args:
        runner: the Runner.
        dataloader: the training dataloader (or its config).
        num_rounds: the number of rounds (set by ``LotteryRunner`` from the plan).
        **kwargs: the arguments of ``EpochBasedTrainLoop`` (``max_epochs``,
            ``val_interval``, ...), which apply to each round.
    """

    def _train_round(self) -> dict:
        """Train the current round to its end; return the last evaluation's metrics."""
        metrics = None
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                metrics = self._validate()
        if metrics is None and self.runner.val_loop is not None:
            # Resumed after the last epoch's checkpoint but before its evaluation, or
            # stopped early between two evaluations.
            metrics = self._validate()
        return metrics or {}


@LOOPS.register_module()
class LotteryIterBasedTrainLoop(_LotteryLoopMixin, IterBasedTrainLoop):
    """:class:`~mmengine.runner.IterBasedTrainLoop` over every lottery round.

    Args:
        runner: the Runner.
        dataloader: the training dataloader (or its config).
        num_rounds: the number of rounds (set by ``LotteryRunner`` from the plan).
        **kwargs: the arguments of ``IterBasedTrainLoop`` (``max_iters``,
            ``val_interval``, ...), which apply to each round.
    """

    def _reset_data_iterator(self, skip: int = 0) -> None:
        """A new stream (round 0's order), advanced by ``skip`` batches."""
        self.dataloader_iterator = _InfiniteDataloaderIterator(self.dataloader)
        if skip:
            self.runner.logger.info(f'[lottery] advancing the dataloader {skip} steps.')
        for _ in range(skip):  # as IterBasedTrainLoop does on resume
            next(self.dataloader_iterator)

    def _train_round(self) -> dict:
        """Train the current round to its end; return the last evaluation's metrics."""
        metrics = None
        self.runner.call_hook('before_train_epoch')
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                metrics = self._validate()
        self.runner.call_hook('after_train_epoch')
        if metrics is None and self.runner.val_loop is not None:
            metrics = self._validate()
        return metrics or {}


def _flatten_schedulers(schedulers) -> list:
    if schedulers is None:
        return []
    if isinstance(schedulers, dict):
        return [s for v in schedulers.values() for s in _flatten_schedulers(v)]
    if isinstance(schedulers, (list, tuple)):
        return list(schedulers)
    return [schedulers]
