# Copyright (c) lth_mm authors. All rights reserved.
"""Exact resume: every rank's random state in every checkpoint, restored where it belongs.

mmengine does not save random states; ``Runner.resume`` re-seeds instead, which is exact
only if nothing drew from the generators since the run started. This hook saves Python,
NumPy and torch (CPU and the current CUDA device's) states of *every rank* under
``checkpoint['lth_mm']['rng_states']``:

* they are gathered (a collective, on all ranks) right before a checkpoint is written,
  in ``after_train_iter``/``after_train_epoch`` when a ``CheckpointHook`` is due
  (``before_save_checkpoint`` itself runs on rank 0 only);
* :class:`RestoreRandomStateHook` (``restore=True``: the run resumes a checkpoint) puts
  them back at the point of the data stream where they were taken: before the first epoch's dataloader iterator is
  made (epoch-based loops), or after ``IterBasedTrainLoop`` has replayed the finished
  iterations' batches (iteration-based loops). Each rank gets its own state.
"""
from typing import List, Optional

from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS
from mmengine.runner import IterBasedTrainLoop

from ..utils import get_rng_state, set_rng_state
from .ticket_mask_hook import CKPT_KEY

RNG_KEY = 'rng_states'


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save every rank's random states in every checkpoint.

    The states are gathered as late as possible before ``CheckpointHook`` (``VERY_LOW``)
    saves, after the other hooks of the iteration have drawn; their restoring is
    :class:`RestoreRandomStateHook`'s, which runs before any other hook draws.
    """

    priority = 'LOW'

    def __init__(self):
        self._states: Optional[List[dict]] = None
        self._gathered_at: Optional[int] = None

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

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rank 0 only: store the gathered states (this rank's alone if none were)."""
        if self._states is None or self._gathered_at != runner.iter:
            self._states = [get_rng_state()]
        checkpoint.setdefault(CKPT_KEY, {})[RNG_KEY] = self._states



@HOOKS.register_module()
class RestoreRandomStateHook(Hook):
    """Restore the random states a resumed checkpoint holds; keep evaluations neutral.

    Runs first among the hooks (``HIGHEST``), so no hook draws from a generator before the
    states are back, nor before an evaluation's are saved.

    Args:
        restore: restore the states of the checkpoint the run resumes from (False for a
            run that starts from ``load_from``).
    """

    priority = 'HIGHEST'

    def __init__(self, restore: bool = False):
        self.restore = restore
        self._pending: Optional[List[dict]] = None
        self._before_val: Optional[dict] = None

    # ------------------------------------------------------------------ evaluation
    def before_val(self, runner) -> None:
        self._before_val = get_rng_state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            set_rng_state(self._before_val)
            self._before_val = None

    # ------------------------------------------------------------------ restoring
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = (checkpoint.get(CKPT_KEY) or {}).get(RNG_KEY)
        if self.restore and states is not None:
            self._pending = states

    def before_train_epoch(self, runner) -> None:
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            self._restore(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._restore(runner)

    def _restore(self, runner) -> None:
        """Restore this rank's state from the checkpoint the run resumed from (once)."""
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
