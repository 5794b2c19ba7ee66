# Copyright (c) lth_mm authors. All rights reserved.
"""Take round 0's late-reset snapshot: a plain mmengine checkpoint at iteration k.

One concern: before iteration ``iteration`` of the run, save the weights and the parameter
schedulers' states there (for ``rewind_mode='continue'`` also the optimizer's, whose
param groups hold the learning rate at that point) with mmengine's own
``Runner.save_checkpoint``, so the snapshot is an ordinary checkpoint: ``EMAHook`` puts
its average in ``state_dict`` and the raw weights in ``ema_state_dict``, and later rounds
choose which with ``lottery.rewind_weights``. The file is written under a temporary name
and renamed, so a kill mid-write leaves no truncated snapshot; a resumed run that is past
the point keeps the snapshot it has.
"""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ..rewind import RewindError


@HOOKS.register_module()
class RewindSnapshotHook(Hook):
    """Save the run's weights at one iteration (the rewind point).

    Args:
        iteration: the iteration (0: the initial weights, before any update).
        path: the snapshot file.
        save_optimizer: also save the optimizer state (needed to continue the schedule).
    """

    # After TicketMaskHook (BELOW_NORMAL) has masked a given ticket's start weights.
    priority = 'LOW'

    def __init__(self, iteration: int, path: str, save_optimizer: bool = False):
        self.iteration = int(iteration)
        self.path = path
        self.save_optimizer = save_optimizer

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Save the snapshot at the rewind point (once)."""
        if runner.iter != self.iteration or osp.isfile(self.path):
            return
        tmp_name = f'.{osp.basename(self.path)}.tmp'
        # meta given explicitly: by_epoch checkpoints otherwise record epoch + 1.
        runner.save_checkpoint(osp.dirname(self.path), tmp_name,
                               save_optimizer=self.save_optimizer,
                               save_param_scheduler=True,
                               meta=dict(epoch=runner.epoch, iter=runner.iter))
        if is_main_process():
            os.replace(osp.join(osp.dirname(self.path), tmp_name), self.path)
        runner.logger.info(f'[lottery] rewind snapshot taken at iteration {runner.iter} -> '
                           f'{self.path}')

    def after_train(self, runner) -> None:
        """A run that stopped before the point leaves later rounds nothing to rewind to."""
        if runner.iter <= self.iteration:  # iteration k never started
            raise RewindError(
                f'Round 0 ended at iteration {runner.iter}, before the rewind point '
                f'(iteration {self.iteration}), so later rounds have nothing to rewind to '
                '(an EarlyStoppingHook or early-bird stop?). Lower lottery.rewind_iter / '
                'rewind_epochs, or let round 0 run past it.')
