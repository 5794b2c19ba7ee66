# Copyright (c) lth_mm authors. All rights reserved.
"""Train loops that run every round of a lottery experiment in one Runner.train() call.

Each round is a complete run of the user's loop (same epochs/iterations, same validation
schedule) with fresh training state: iteration counters, a new optimizer built from the
config (the paper retrains "with a fresh optimizer"), the full LR schedule, per-round
checkpoint directories and best-checkpoint tracking. The :class:`LotteryHook` is asked to
prune and rewind at each round start and to record the round at its end.
"""
import copy
import warnings
from collections import deque
from typing import Optional

from mmengine.fileio import join_path
from mmengine.hooks import CheckpointHook, IterTimerHook
from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from ..hooks.lottery_hook import LotteryHook
from ..utils import preserved_rng

# Runtime-info keys of CheckpointHook that must not leak from one round into the next.
_CKPT_RUNTIME_KEYS = ('best_score', 'best_ckpt', 'keep_ckpt_ids', 'last_ckpt')


class _LotteryLoopMixin:
    """Round logic shared by the epoch- and iteration-based lottery loops."""

    def _lottery_hook(self) -> LotteryHook:
        hooks = [h for h in self.runner.hooks if isinstance(h, LotteryHook)]
        if len(hooks) != 1:
            raise RuntimeError(
                f'{type(self).__name__} needs exactly one LotteryHook, found {len(hooks)}. '
                "Use runner_type='LotteryRunner' (set by configs/_base_/lottery.py), which "
                'adds it from the `lottery` config block.')
        return hooks[0]

    def run(self):
        """Run every planned round, then ``after_train``."""
        hook = self._lottery_hook()
        self.runner.call_hook('before_train')
        self._ckpt_base_dirs = {id(h): h.out_dir for h in self.runner.hooks
                                if isinstance(h, CheckpointHook)}
        while not hook.finished:
            if not hook.round_started:
                if hook.round > 0 or hook.resumed:
                    self._fresh_training_state()
                self._use_round_dirs(hook.round, reset_best=True)
                hook.start_round(self.runner)
                self._maybe_continue_from_rewind_point(hook)
                self._restart_timers()
            else:
                self._use_round_dirs(hook.round, reset_best=False)
                hook.resume_round(self.runner)
            hook.enforcer.attach(self.runner.optim_wrapper)
            if not hook.round_finished:
                metrics = self._train_round(resumed_mid_round=hook.resumed)
                hook.end_round(self.runner, metrics)
            hook.advance()
            hook.resumed = False
        self.runner.call_hook('after_train')
        return self.runner.model

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
        self._reset_data_iterator()

    def _reset_data_iterator(self) -> None:
        """Epoch-based loops iterate the dataloader afresh each epoch: nothing to do."""

    def _maybe_continue_from_rewind_point(self, hook: LotteryHook) -> None:
        """open_lth style: continue the schedule from the rewind point instead of iter 0."""
        if hook.round == 0 or hook.settings.rewind_mode != 'continue' or \
                hook.current['kind'] == 'given_ticket':
            return
        k = hook.rewind_iter
        iters_per_epoch = len(self.dataloader)
        self._iter = k
        self._epoch = k // iters_per_epoch
        with warnings.catch_warnings():
            # Fast-forwarding calls scheduler.step() before any optimizer.step(): intended.
            warnings.simplefilter('ignore', UserWarning)
            for scheduler in _flatten_schedulers(self.runner.param_schedulers):
                for _ in range(self._epoch if scheduler.by_epoch else k):
                    scheduler.step()
        self.runner.optim_wrapper.initialize_count_status(self.runner.model, k,
                                                          self.max_iters)
        self.runner.logger.info(f'[lottery] continuing the schedule from iteration {k}.')

    def _restart_timers(self) -> None:
        """IterTimerHook's ETA divides by ``iter - start_iter``: restart it with the round."""
        for h in self.runner.hooks:
            if isinstance(h, IterTimerHook):
                h.start_iter = self._iter
                h.time_sec_tot = 0

    def _use_round_dirs(self, r: int, reset_best: bool) -> None:
        """Point every CheckpointHook at ``<its dir>/round_{r}``; reset best tracking."""
        hub = self.runner.message_hub
        for h in self.runner.hooks:
            if not isinstance(h, CheckpointHook):
                continue
            base = self._ckpt_base_dirs[id(h)]
            h.out_dir = join_path(base, f'round_{r}',
                                  backend_args=getattr(h, 'backend_args', None))
            if reset_best:
                h.last_ckpt = None
                if getattr(h, 'best_ckpt_path', None) is not None:
                    h.best_ckpt_path = None
                if getattr(h, 'best_ckpt_path_dict', None):
                    h.best_ckpt_path_dict = {k: None for k in h.best_ckpt_path_dict}
                if hasattr(h, 'keep_ckpt_ids'):
                    h.keep_ckpt_ids = deque([], h.max_keep_ckpts)
        if reset_best:
            for key in list(hub.runtime_info):
                if key.startswith(_CKPT_RUNTIME_KEYS):
                    hub.runtime_info.pop(key)

    def _validate(self) -> Optional[dict]:
        """Evaluate without perturbing the training random streams."""
        with preserved_rng():
            return self.runner.val_loop.run()


@LOOPS.register_module()
class LotteryEpochBasedTrainLoop(_LotteryLoopMixin, EpochBasedTrainLoop):
    """:class:`~mmengine.runner.EpochBasedTrainLoop` over every lottery round.

    Takes exactly the arguments of ``EpochBasedTrainLoop`` (``max_epochs``,
    ``val_interval``, ...), which apply to each round.
    """

    def _train_round(self, resumed_mid_round: bool = False) -> dict:
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
            # Resumed after the last epoch's checkpoint but before its evaluation.
            metrics = self._validate()
        return metrics or {}


@LOOPS.register_module()
class LotteryIterBasedTrainLoop(_LotteryLoopMixin, IterBasedTrainLoop):
    """:class:`~mmengine.runner.IterBasedTrainLoop` over every lottery round.

    Takes exactly the arguments of ``IterBasedTrainLoop`` (``max_iters``, ``val_interval``,
    ...), which apply to each round.
    """

    def _reset_data_iterator(self) -> None:
        # Every round sees the data in the same order as round 0.
        self.dataloader_iterator = _InfiniteDataloaderIterator(self.dataloader)

    def _train_round(self, resumed_mid_round: bool = False) -> dict:
        """Train the current round to its end; return the last evaluation's metrics."""
        metrics = None
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0 and resumed_mid_round:
            for _ in range(self._iter):  # as IterBasedTrainLoop does on resume
                next(self.dataloader_iterator)
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
