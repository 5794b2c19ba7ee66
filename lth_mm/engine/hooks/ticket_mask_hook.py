# Copyright (c) lth_mm authors. All rights reserved.
"""Train a ticket: its masks hold at every step, in the model and in every EMA copy.

One concern: in ``before_train`` (after mmengine has loaded ``load_from`` or resumed) read
the round's ``ticket.pth``, zero the pruned weights, and attach a
:class:`~lth_mm.engine.optim.MaskEnforcer` to the optimizer wrapper the Runner built
(plain, AMP, clipping and accumulation alike); after every iteration mask the EMA copies.
Rank 0's masks are broadcast, so every rank enforces the same ones.

The hook knows nothing about rounds: any round can be rerun by hand with
``load_from='work_dir/round_1/start.pth'`` and
``custom_hooks=[dict(type='TicketMaskHook', ticket='work_dir/round_1/ticket.pth')]``.
"""
from typing import Optional

from mmengine.hooks import EMAHook, Hook
from mmengine.registry import HOOKS

from ...pruning import MaskSet, check_fits, load_ticket
from ..optim.mask_enforcer import MaskEnforcer
from ..utils import broadcast_masks, unwrap

CKPT_KEY = 'lth_mm'  # lth_mm's one key in a checkpoint (masks, random states)


@HOOKS.register_module()
class TicketMaskHook(Hook):
    """Keep a ticket's pruned weights at exactly zero during training.

    Args:
        ticket: the ticket file (``round_{r}/ticket.pth``).
        load_values: load the start values the ticket carries (a transferred ticket's
            backbone) into the model before masking; only when a run starts, never on a
            resume (the checkpoint holds the trained values).
    """

    # After EMAHook (NORMAL): masking the EMA copy in after_train_iter sees the new average.
    priority = 'BELOW_NORMAL'

    def __init__(self, ticket: str, load_values: bool = False):
        self.ticket = ticket
        self.load_values = load_values
        self.masks: Optional[MaskSet] = None
        self.enforcer: Optional[MaskEnforcer] = None

    def before_train(self, runner) -> None:
        """Apply the masks (and start values) and start enforcing them."""
        ticket = load_ticket(self.ticket)
        model = unwrap(runner.model)
        params = dict(model.named_parameters())
        check_fits(ticket.masks, params, source=f'ticket {self.ticket!r}')
        masks = broadcast_masks({n: m.to(params[n].device)
                                 for n, m in ticket.masks.as_bool().items()})
        values = ticket.values if self.load_values else None
        if values:
            unknown = [k for k in values if k not in model.state_dict()]
            if unknown:
                raise KeyError(f'the ticket {self.ticket!r} carries values for {unknown[:5]}, '
                               'which the model does not have.')
            model.load_state_dict(values, strict=False)
            runner.logger.info(f'[lottery] loaded {len(values)} start values from the ticket.')
        self.masks = MaskSet(masks)
        if self.masks.prunable_sparsity() == 0:  # a dense round: nothing to enforce
            self.masks = None
            return
        self.enforcer = MaskEnforcer(model)
        self.enforcer.set_masks(self.masks)
        self.enforcer.apply()
        self.enforcer.attach(runner.optim_wrapper)
        for ema in self._ema_modules(runner):
            if values:  # EMAHook copied the weights before the values were loaded
                ema.load_state_dict(model.state_dict())
            self.enforcer.apply(ema)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Mask the EMA copies (their average of zeros is zero; this makes it certain)."""
        if self.enforcer is not None:
            for ema in self._ema_modules(runner):
                self.enforcer.apply(ema)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Every checkpoint says which masks its weights obey (``checkpoint['lth_mm']``)."""
        if self.masks is not None:
            checkpoint.setdefault(CKPT_KEY, {}).update(masks=self.masks.state_dict(),
                                                       ticket=self.ticket)

    def after_run(self, runner) -> None:
        """Remove the optimizer hooks; drop the model so a finished round can be freed."""
        if self.enforcer is not None:
            self.enforcer.close()
        self.enforcer = None

    @staticmethod
    def _ema_modules(runner) -> list:
        return [h.ema_model.module for h in runner.hooks
                if isinstance(h, EMAHook) and hasattr(h, 'ema_model')]
