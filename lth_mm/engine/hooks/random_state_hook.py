# Copyright (c) lth_mm authors. All rights reserved.
"""Exact resume: every rank's random state in every checkpoint, restored where it belongs.

mmengine does not save random states; ``Runner.resume`` re-seeds instead, which is exact
only if nothing drew from the generators since the run started. This hook saves Python,
NumPy and torch (CPU and CUDA) states of *every rank* under ``checkpoint['rng_states']``:

* they are gathered (a collective, on all ranks) right before a checkpoint is written:
  in ``after_train_iter``/``after_train_epoch`` when a ``CheckpointHook`` is due, and in
  ``after_lottery_round`` before the round's final checkpoint; ``before_save_checkpoint``
  itself runs on rank 0 only;
* they are restored when the round (re)starts (``before_lottery_round``): after
  ``Runner.resume`` has re-seeded and after an iteration-based loop has replayed the
  round's batches, i.e. at the point of the stream where they were taken. Each rank gets
  its own state (rank 0's imposed on all would correlate the ranks).
"""
from typing import List, Optional

from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS

from ..utils import get_rng_state, set_rng_state

CKPT_KEY = 'rng_states'


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save every rank's random states in checkpoints and restore them on resume.

    Added by :class:`~lth_mm.engine.runner.LotteryRunner`; it works with any loop that
    fires ``before_lottery_round``.
    """

    # Before LotteryHook (BELOW_NORMAL): restore before the round draws anything; and it
    # gathers before CheckpointHook (VERY_LOW) saves.
    priority = 'NORMAL'
    lottery_persistent = True

    def __init__(self):
        self._states: Optional[List[dict]] = None
        self._gathered_at: Optional[int] = None
        self._pending: Optional[List[dict]] = None

    # ------------------------------------------------------------------ saving
    def _gather(self, runner) -> None:
        state = get_rng_state()
        self._states = all_gather_object(state) if get_world_size() > 1 else [state]
        self._gathered_at = runner.iter

    @staticmethod
    def _checkpoint_due(runner, by_epoch: bool) -> bool:
        for h in runner.hooks:
            if not isinstance(h, CheckpointHook) or h.by_epoch != by_epoch or h.interval <= 0:
                continue
            if by_epoch:
                if h.every_n_epochs(runner, h.interval, h.save_begin) or (
                        h.save_last and h.is_last_train_epoch(runner)):
                    return True
            elif h.every_n_train_iters(runner, h.interval, h.save_begin) or (
                    h.save_last and h.is_last_train_iter(runner)):
                return True
        return False

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._checkpoint_due(runner, by_epoch=False):
            self._gather(runner)

    def after_train_epoch(self, runner) -> None:
        if self._checkpoint_due(runner, by_epoch=True):
            self._gather(runner)

    def after_lottery_round(self, runner, lottery_round: int, metrics: dict) -> None:
        """The round's final checkpoint is written next (by the LotteryHook)."""
        self._gather(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rank 0 only: store the gathered states (this rank's alone if none were)."""
        if self._states is None or self._gathered_at != runner.iter:
            self._states = [get_rng_state()]
        checkpoint[CKPT_KEY] = self._states

    # ------------------------------------------------------------------ restoring
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False) and CKPT_KEY in checkpoint:
            self._pending = checkpoint[CKPT_KEY]

    def before_lottery_round(self, runner, lottery_round: int, resumed: bool) -> None:
        """Restore this rank's state from the checkpoint the run resumed from."""
        if self._pending is None:
            return
        states, self._pending = self._pending, None
        world, rank = get_world_size(), get_rank()
        if len(states) == world:
            set_rng_state(states[rank])
            return
        if world > 1:
            runner.logger.warning(
                f'[lottery] the checkpoint holds random states of {len(states)} rank(s), this '
                f"run has {world}: every rank continues from rank 0's.")
        set_rng_state(states[0])
