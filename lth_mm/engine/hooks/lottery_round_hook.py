# Copyright (c) lth_mm authors. All rights reserved.
"""What a round's Runner knows about the experiment, and the round's last step.

One concern, the round as part of an experiment:

* ``before_run``: publish the round in the message hub (:func:`round_info` reads it), so
  lth_mm's analysis hooks and any user hook learn the round, its kind and the experiment
  directory without events of their own (``runner.work_dir`` is ``round_{r}/``);
* every ``interval`` iterations: one log line with the round of the experiment and the
  ETA of the whole experiment (mmengine's ETA covers the current run only);
* ``after_train``: evaluate once more if the last evaluation was not of the final weights
  (an early stop, or a resume after the last checkpoint), without perturbing the random
  streams; then write ``final.pth``, the weights the next round prunes.
"""
import time
from typing import Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ... import paths
from ..utils import preserved_rng

INFO_KEY = 'lottery/round_info'


def round_info(runner) -> Optional[dict]:
    """The round a Runner trains, or None outside a lottery experiment.

    Args:
        runner: an mmengine Runner.

    Returns:
        dict | None: ``round``, ``num_rounds``, ``kind``, ``keep_ratio`` and
        ``experiment_dir`` (the experiment's work_dir).
    """
    return runner.message_hub.get_info(INFO_KEY, None)


def round_location(runner, field: Optional[str] = None):
    """``(experiment_dir, round)`` of a Runner, or one field of :func:`round_info`.

    Args:
        runner: the round's Runner.
        field: a key of :func:`round_info` to return instead (None outside an experiment).

    Returns:
        tuple | value

    Raises:
        RuntimeError: without ``field``, for a Runner outside a lottery experiment.
    """
    info = round_info(runner)
    if field is not None:
        return None if info is None else info.get(field)
    if info is None:
        raise RuntimeError('this hook belongs to a lottery experiment (runner_type='
                           "'LotteryRunner'); the Runner has no lottery round.")
    return info['experiment_dir'], info['round']


@HOOKS.register_module()
class LotteryRoundHook(Hook):
    """Round bookkeeping inside one round's Runner.

    Args:
        round: the round index.
        num_rounds: rounds in the plan.
        kind: the round's kind (``dense``, ``ticket``, ...).
        keep_ratio: its planned keep ratio (None for dense).
        experiment_dir: the experiment's work_dir.
        interval: iterations between progress lines.
    """

    # Before the analysis hooks (NORMAL) in after_train: they read the final evaluation.
    priority = 'ABOVE_NORMAL'

    def __init__(self, round: int, num_rounds: int, kind: str,
                 keep_ratio: Optional[float], experiment_dir: str, interval: int = 50):
        self.info = dict(round=int(round), num_rounds=int(num_rounds), kind=kind,
                         keep_ratio=keep_ratio, experiment_dir=experiment_dir)
        self.interval = max(1, int(interval))
        self.metrics: dict = {}
        self._val_iter: Optional[int] = None
        self._t0 = None
        self._start_iter = 0

    def before_run(self, runner) -> None:
        runner.message_hub.update_info(INFO_KEY, dict(self.info))

    def before_train(self, runner) -> None:
        self._t0, self._start_iter = time.perf_counter(), runner.iter
        runner.logger.info(f'[lottery] round {self._label()} ({self.info["kind"]}) starts at '
                           f'iteration {runner.iter} of {runner.max_iters}.')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        done = runner.iter + 1 - self._start_iter
        if done % self.interval or self._t0 is None:
            return
        per_iter = (time.perf_counter() - self._t0) / done
        later_rounds = self.info['num_rounds'] - self.info['round'] - 1
        left = (runner.max_iters - runner.iter - 1) + later_rounds * runner.max_iters
        runner.logger.info(f'[lottery] round {self._label()}, iteration {runner.iter + 1}/'
                           f'{runner.max_iters}; experiment ETA {_hms(per_iter * left)} '
                           f'(later rounds assumed as long as this one)')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics = dict(metrics or {})
        self._val_iter = runner.iter

    def after_train(self, runner) -> None:
        """Evaluate the final weights if that has not happened; write ``final.pth``."""
        if runner.val_loop is not None and self._val_iter != runner.iter:
            with preserved_rng():
                self.metrics = dict(runner.val_loop.run() or {})
        # meta given explicitly: by_epoch checkpoints otherwise record epoch + 1.
        runner.save_checkpoint(runner.work_dir, paths.FINAL_CHECKPOINT, save_optimizer=False,
                               save_param_scheduler=False,
                               meta=dict(epoch=runner.epoch, iter=runner.iter))

    def _label(self) -> str:
        r, n = self.info['round'], self.info['num_rounds']
        return f'{r} ({r + 1} of {n})'


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'
