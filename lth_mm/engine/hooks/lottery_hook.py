# Copyright (c) lth_mm authors. All rights reserved.
"""The lottery hook: pruning, rewinding, masks in checkpoints, the per-round summary.

The hook owns the state of a lottery experiment (round index, the mask set, the rewind
snapshot, the summary) and checkpoints it; the lottery train loops
(:mod:`lth_mm.engine.loops`) decide *when* a round starts and ends and call
:meth:`LotteryHook.start_round` / :meth:`LotteryHook.end_round`. The pruning maths lives in
:mod:`lth_mm.pruning` and is called from here.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import EMAHook, Hook
from mmengine.registry import HOOKS
from mmengine.runner import BaseLoop

from ...fileio import atomic_torch_save, atomic_write_json, atomic_write_text
from ...pruning import (LotterySettings, MaskSet, check_fits, compute_masks,
                        count_parameters, load_ticket, permute_within, random_with_counts,
                        save_ticket, select_prunable, zero_fraction)
from ...report import format_summary_table
from ..optim.mask_enforcer import MaskEnforcer
from ..utils import broadcast_masks, get_rng_state, set_rng_state, unwrap

CKPT_KEY = 'lth_mm'
SNAPSHOT_NAME = 'rewind_snapshot.pth'
SUMMARY_NAME = 'lottery_summary.json'


class RewindError(ValueError):
    """Invalid rewind point or rewind checkpoint."""


@HOOKS.register_module()
class LotteryHook(Hook):
    """Iterative magnitude pruning with rewinding, for any model an mmengine Runner trains.

    Built by :class:`~lth_mm.engine.runner.LotteryRunner` from the config's top-level
    ``lottery = dict(...)`` (every key is documented in
    :class:`~lth_mm.pruning.LotterySettings` and ``configs/_base_/lottery.py``).

    What it owns (and saves under ``checkpoint['lth_mm']``): the round index and whether it
    finished, the masks (bit-packed), the last magnitude ticket (for the controls), the
    rewind iteration and snapshot file, the summary rows and the random states. Weights in
    checkpoints stay a plain ``state_dict`` with pruned entries at zero, so any checkpoint
    loads into a plain mmdet/mmpose model with ``strict=True``.

    Args:
        **lottery: the ``lottery`` config block.
    """

    # After EMAHook (NORMAL) so that masking the EMA copy in ``after_train_iter`` sees the
    # updated average.
    priority = 'BELOW_NORMAL'

    def __init__(self, **lottery):
        self.settings = LotterySettings.from_dict(lottery)
        self.plan = self.settings.plan()
        # --- checkpointed state
        self.round = 0
        self.round_started = False
        self.round_finished = False
        self.masks: Optional[MaskSet] = None
        self.ticket_state: Optional[dict] = None  # last magnitude ticket, for controls
        self.rewind_iter: Optional[int] = None
        self.snapshot_path: Optional[str] = None
        self.summary: List[dict] = []
        # --- runtime only
        self.snapshot: Optional[Dict[str, torch.Tensor]] = None
        self.enforcer: Optional[MaskEnforcer] = None
        self.prunable_names: List[str] = []
        self.network_params = 0
        self.resumed = False
        self._given_ticket: Optional[MaskSet] = None

    # ================================================================ properties
    @property
    def finished(self) -> bool:
        """All planned rounds are done."""
        return self.round >= len(self.plan)

    @property
    def current(self) -> dict:
        """The plan entry of the current round."""
        return self.plan[self.round]

    def round_dir(self, runner, r: Optional[int] = None) -> str:
        """``work_dir/round_{r}``."""
        return osp.join(runner.work_dir, f'round_{self.round if r is None else r}')

    # ================================================================ set-up
    def before_run(self, runner) -> None:
        """Resolve the scope, the rewind point and a given ticket; fail before training."""
        if not isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            return  # runner.test()/val() also call before_run: nothing to set up
        self._refuse_to_overwrite(runner)
        model = unwrap(runner.model)
        s = self.settings
        self.prunable_names = select_prunable(model, **s.scope_dict)
        self.network_params = count_parameters(model)
        self.enforcer = MaskEnforcer(model)
        params = dict(model.named_parameters())
        covered = sum(params[n].numel() for n in self.prunable_names)
        runner.logger.info(
            f'[lottery] {len(self.prunable_names)} prunable tensors, {covered:,} of '
            f'{self.network_params:,} parameters ({100 * covered / self.network_params:.2f}%);'
            f' plan: ' + ', '.join(f"r{p['round']}:{p['kind']}@keep{p['keep_ratio']:.3f}"
                                   for p in self.plan))

        max_iters = runner.train_loop.max_iters
        iters_per_epoch = len(runner.train_loop.dataloader)
        if s.rewind_epochs is not None:
            self.rewind_iter = int(round(float(s.rewind_epochs) * iters_per_epoch))
        else:
            self.rewind_iter = int(s.rewind_iter or 0)
        if self._needs_snapshot() and self.rewind_iter >= max_iters:
            raise RewindError(
                f'The rewind point (iteration {self.rewind_iter}) is beyond the length of a '
                f'round ({max_iters} iterations = {max_iters // max(iters_per_epoch, 1)} '
                f'epochs of {iters_per_epoch} iterations). Lower lottery.rewind_iter / '
                'lottery.rewind_epochs (the paper rewinds to about one epoch).')
        if s.rewind_mode == 'continue' and self.rewind_iter % iters_per_epoch and \
                hasattr(runner.train_loop, 'max_epochs') and \
                type(runner.train_loop).__name__.startswith('LotteryEpoch'):
            raise RewindError(
                "lottery.rewind_mode='continue' with an epoch-based loop needs the rewind "
                f'point on an epoch boundary (multiple of {iters_per_epoch} iterations), got '
                f'{self.rewind_iter}. Use lottery.rewind_epochs=<integer>.')

        if s.ticket is not None:
            ticket = load_ticket(s.ticket)
            check_fits(ticket.masks, params, self.prunable_names, source=f'ticket {s.ticket!r}')
            self._given_ticket = ticket.masks
            runner.logger.info(
                f'[lottery] training the given ticket {s.ticket} '
                f'({100 * ticket.masks.prunable_sparsity():.2f}% of the prunable weights '
                'pruned).')
        if s.rewind_from is not None:
            self.snapshot = self._load_rewind_checkpoint(s.rewind_from, model)
            runner.logger.info(f'[lottery] rewind state taken from {s.rewind_from}.')

    @staticmethod
    def _refuse_to_overwrite(runner) -> None:
        """A fresh run must not overwrite the rounds of an earlier experiment."""
        if getattr(runner, '_resume', False):
            return
        found = [n for n in (SUMMARY_NAME, SNAPSHOT_NAME, 'round_0')
                 if osp.exists(osp.join(runner.work_dir, n))]
        if found:
            raise FileExistsError(
                f'{runner.work_dir} already holds a lottery experiment ({", ".join(found)}). '
                'Pass --resume to continue it (a finished one just prints its summary), or '
                'choose another --work-dir; nothing was overwritten.')

    def _needs_snapshot(self) -> bool:
        """Whether round 0 must snapshot the weights for later rounds."""
        s = self.settings
        return (s.rewind_mode != 'lr' and s.rewind_from is None and s.ticket is None
                and len(self.plan) > 1)

    @staticmethod
    def _load_rewind_checkpoint(path: str, model) -> Dict[str, torch.Tensor]:
        if not osp.isfile(path):
            raise RewindError(f'lottery.rewind_from: {path!r} does not exist.')
        try:
            ckpt = torch.load(path, map_location='cpu', weights_only=False)
        except Exception as e:  # noqa: BLE001  (any unpickling failure means a bad file)
            raise RewindError(f'lottery.rewind_from: cannot read {path!r} '
                              f'({type(e).__name__}: {e}); is it truncated?') from e
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict):
            raise RewindError(f'lottery.rewind_from: {path!r} holds no state_dict.')
        state = {k[len('module.'):] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        expected = model.state_dict()
        missing = [k for k in expected if k not in state]
        extra = [k for k in state if k not in expected]
        shapes = [k for k in expected if k in state and state[k].shape != expected[k].shape]
        if missing or extra or shapes:
            raise RewindError(
                f'lottery.rewind_from: {path!r} does not fit the model: '
                f'missing {missing[:5]}, unexpected {extra[:5]}, shape mismatch {shapes[:5]}.')
        return {k: v.detach().clone() for k, v in state.items()}

    # ================================================================ checkpoints
    def state_dict(self) -> dict:
        """The hook's state (what goes into ``checkpoint['lth_mm']``)."""
        return dict(
            version=1,
            round=self.round,
            round_started=self.round_started,
            round_finished=self.round_finished,
            masks=None if self.masks is None else self.masks.state_dict(),
            ticket=self.ticket_state,
            rewind_iter=self.rewind_iter,
            snapshot_path=self.snapshot_path,
            summary=copy.deepcopy(self.summary),
            plan=self.plan,
            settings=self.settings.to_dict(),
            rng=get_rng_state(),
        )

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add the lottery state; master-only, so no collectives here."""
        checkpoint[CKPT_KEY] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the lottery state when resuming (runs before the weights are loaded)."""
        state = checkpoint.get(CKPT_KEY)
        if state is None or not getattr(runner, '_resume', False):
            if state is not None:
                runner.logger.info('[lottery] load_from: weights only; the checkpoint\'s '
                                   'lottery state (round, masks) is not resumed.')
            return
        if state.get('plan') != self.plan:
            raise ValueError(
                'Cannot resume: the checkpoint was written by a lottery experiment with a '
                f'different plan ({state.get("plan")}) than this config ({self.plan}). '
                'Resume with the same lottery settings, or start a new work_dir.')
        self.round = state['round']
        self.round_started = state['round_started']
        self.round_finished = state['round_finished']
        self.ticket_state = state['ticket']
        self.rewind_iter = state['rewind_iter']
        self.snapshot_path = state['snapshot_path']
        self.summary = list(state['summary'])
        self.masks = None if state['masks'] is None else MaskSet.from_state_dict(state['masks'])
        if self.snapshot is None and self.snapshot_path is not None:
            if not osp.isfile(self.snapshot_path):
                raise RewindError(
                    f'Cannot resume: the rewind snapshot {self.snapshot_path} recorded in the '
                    'checkpoint is gone. Restore it or restart the experiment.')
            self.snapshot = torch.load(self.snapshot_path, map_location='cpu',
                                       weights_only=True)['state_dict']
        set_rng_state(state['rng'])
        self.resumed = True
        runner.logger.info(
            f'[lottery] resumed round {self.round} ({self.current["kind"] if not self.finished else "done"}'
            f', {"finished" if self.round_finished else "in progress"}).')

    # ================================================================ per iteration
    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Take the rewind snapshot at iteration ``rewind_iter`` of round 0."""
        if (self.round == 0 and self.snapshot is None and self._needs_snapshot()
                and runner.iter == self.rewind_iter):
            self._take_snapshot(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Mask the EMA copies too (their average of zeros is zero, this makes it certain)."""
        if self.enforcer is not None and self.enforcer.active:
            for ema in self._ema_modules(runner):
                self.enforcer.apply(ema)

    def _take_snapshot(self, runner) -> None:
        model = unwrap(runner.model)
        # Clone: the official VOC/ImageNet code kept references to the live tensors, so its
        # "rewind" reloaded the final weights.
        self.snapshot = {k: v.detach().to('cpu', copy=True) for k, v in
                         model.state_dict().items()}
        self.snapshot_path = osp.join(runner.work_dir, SNAPSHOT_NAME)
        if is_main_process():
            atomic_torch_save(dict(state_dict=self.snapshot,
                                   meta=dict(iter=runner.iter, round=self.round)),
                              self.snapshot_path)
        runner.logger.info(f'[lottery] rewind snapshot taken at iteration {runner.iter} '
                           f'-> {self.snapshot_path}')

    @staticmethod
    def _ema_modules(runner) -> list:
        return [h.ema_model.module for h in runner.hooks
                if isinstance(h, EMAHook) and hasattr(h, 'ema_model')]

    # ================================================================ round boundaries
    def start_round(self, runner) -> None:
        """Compute this round's masks, rewind, apply the masks (called by the loop).

        Args:
            runner: the Runner.
        """
        entry = self.current
        kind, keep = entry['kind'], entry['keep_ratio']
        model = unwrap(runner.model)
        params = dict(model.named_parameters())
        gen = torch.Generator().manual_seed(int(self.settings.seed) + 1000 * self.round)
        if self.masks is not None:
            self.masks.bind_(params)  # restored from a checkpoint: CPU until bound

        if kind == 'dense':
            new_masks = None
        elif kind == 'given_ticket':
            new_masks = self._given_ticket.as_bool()
        elif kind == 'ticket':
            weights = {n: params[n].detach() for n in self.prunable_names}
            current = (self.masks.as_bool() if self.masks is not None else
                       {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()})
            new_masks = compute_masks(self.settings.criterion, weights, current, keep, gen)
        elif kind == 'random_ticket':
            new_masks = random_with_counts(self._ticket_masks().as_bool(), gen)
        elif kind == 'random_reinit':
            new_masks = self._ticket_masks().as_bool()
        else:  # pragma: no cover - plan kinds are fixed by LotterySettings.plan
            raise ValueError(kind)

        if new_masks is not None:
            new_masks = broadcast_masks(
                {n: m.to(params[n].device) for n, m in new_masks.items()})
            if self.masks is None:
                self.masks = MaskSet(new_masks)
                self.enforcer.set_masks(self.masks)
            else:
                self.masks.update_(new_masks)
                if self.enforcer.masks is not self.masks:
                    self.enforcer.set_masks(self.masks)

        self._rewind(runner, model, kind, gen)
        self.enforcer.apply()
        self._reset_ema(runner, model)
        self.round_started, self.round_finished = True, False
        self._save_ticket(runner, entry)
        if self.masks is not None:
            runner.logger.info(
                f'[lottery] round {self.round} ({kind}): keep {keep:.4f}, prunable sparsity '
                f'{100 * self.masks.prunable_sparsity():.2f}%, network sparsity '
                f'{100 * self.masks.network_sparsity(self.network_params):.2f}%')
        else:
            runner.logger.info(f'[lottery] round {self.round} (dense)')

    def resume_round(self, runner) -> None:
        """Re-wire the masks after resuming in the middle of a round (called by the loop)."""
        if self.masks is not None:
            self.enforcer.set_masks(self.masks)
            self.enforcer.apply()

    def _ticket_masks(self) -> MaskSet:
        if self.ticket_state is None:
            raise RuntimeError('control round without a magnitude ticket (internal error)')
        return MaskSet.from_state_dict(self.ticket_state)

    def _rewind(self, runner, model, kind: str, gen: torch.Generator) -> None:
        if kind == 'dense':
            return  # round 0 trains from the model's own initialisation / load_from
        if kind == 'given_ticket' and self.snapshot is None:
            return  # a given ticket without rewind_from starts from the initialisation
        if kind != 'given_ticket' and self.settings.rewind_mode == 'lr':
            return  # Renda et al.: keep the final weights; only the LR schedule rewinds
        if self.snapshot is None:
            raise RewindError(f'round {self.round} needs a rewind snapshot but none was '
                              'taken in round 0 (internal error).')
        state = self.snapshot
        if kind == 'random_reinit':
            state = dict(state)
            state.update(permute_within({n: state[n] for n in self.prunable_names}, gen))
        model.load_state_dict(state, strict=True)  # copies into the live tensors
        runner.logger.info(f'[lottery] rewound to iteration {self.rewind_iter}'
                           + (' (prunable weights re-initialised at random)'
                              if kind == 'random_reinit' else ''))

    def _reset_ema(self, runner, model) -> None:
        """Restart every EMA from the rewound, masked weights."""
        for h in runner.hooks:
            if isinstance(h, EMAHook) and hasattr(h, 'ema_model'):
                ema = h.ema_model
                ema.module.load_state_dict(model.state_dict())
                ema.steps.zero_()

    def _save_ticket(self, runner, entry: dict) -> None:
        if not is_main_process():
            return
        masks = self.masks if self.masks is not None else MaskSet(
            {n: torch.ones(p.shape, dtype=torch.bool)
             for n, p in unwrap(runner.model).named_parameters() if n in self.prunable_names})
        save_ticket(osp.join(self.round_dir(runner), 'ticket.pth'), masks, dict(
            round=self.round, kind=entry['kind'], keep_ratio=entry['keep_ratio'],
            prunable_sparsity=masks.prunable_sparsity(),
            network_sparsity=masks.network_sparsity(self.network_params),
            network_params=self.network_params,
            scope=self.settings.scope_dict, criterion=self.settings.criterion,
            rewind=dict(iter=self.rewind_iter, mode=self.settings.rewind_mode,
                        snapshot=self.snapshot_path, rewind_from=self.settings.rewind_from),
            seed=self.settings.seed))

    def end_round(self, runner, metrics: Optional[dict]) -> None:
        """Record the round in the summary and save the round's final checkpoint.

        Args:
            runner: the Runner.
            metrics: the evaluator's final dict of the round (empty without validation).
        """
        entry = self.current
        model = unwrap(runner.model)
        params = dict(model.named_parameters())
        masks = self.masks
        row = dict(
            round=self.round, kind=entry['kind'], keep_ratio=entry['keep_ratio'],
            prunable_sparsity=0.0 if masks is None else masks.prunable_sparsity(),
            network_sparsity=0.0 if masks is None else masks.network_sparsity(
                self.network_params),
            zero_fraction_of_prunable=zero_fraction(
                params[n].detach() for n in self.prunable_names),
            metrics={k: _to_py(v) for k, v in (metrics or {}).items()},
            best_checkpoint=runner.message_hub.get_info('best_ckpt', None),
            final_checkpoint=osp.join(self.round_dir(runner), 'final.pth'),
        )
        self.summary = [r for r in self.summary if r['round'] != self.round] + [row]
        if entry['kind'] == 'ticket':
            self.ticket_state = masks.state_dict()
        self.round_finished = True
        if is_main_process():
            atomic_write_json(dict(plan=self.plan, settings=self.settings.to_dict(),
                                   network_params=self.network_params,
                                   rounds=self.summary),
                              osp.join(runner.work_dir, SUMMARY_NAME))
        self._log_to_visualizer(runner, row)
        # A checkpoint after the round's evaluation: resuming from it starts the next round
        # directly (no re-evaluation), and it is the round's final weights.
        runner.save_checkpoint(self.round_dir(runner), 'final.pth', save_optimizer=False,
                               save_param_scheduler=False,
                               meta=dict(epoch=runner.epoch, iter=runner.iter))
        if is_main_process():
            atomic_write_text(row['final_checkpoint'], osp.join(runner.work_dir,
                                                                'last_checkpoint'))
        runner.logger.info(f'[lottery] round {self.round} done: ' + ', '.join(
            f'{k}={v:.4f}' for k, v in row['metrics'].items() if isinstance(v, float)))

    def advance(self) -> None:
        """Move to the next round."""
        self.round += 1
        self.round_started = self.round_finished = False

    def _log_to_visualizer(self, runner, row: dict) -> None:
        scalars = {'lottery/keep_ratio': row['keep_ratio'],
                   'lottery/prunable_sparsity': row['prunable_sparsity'],
                   'lottery/network_sparsity': row['network_sparsity']}
        scalars.update({f'lottery/{k}': v for k, v in row['metrics'].items()
                        if isinstance(v, (int, float))})
        runner.visualizer.add_scalars(scalars, step=row['round'])

    def after_train(self, runner) -> None:
        """Print the summary table and log it as text to the visualizer backends."""
        if not self.summary:
            return
        table = format_summary_table(self.summary)
        runner.logger.info('[lottery] summary\n' + table)
        if is_main_process():
            atomic_write_text(table + '\n', osp.join(runner.work_dir, 'lottery_summary.txt'))

    def after_run(self, runner) -> None:
        if self.enforcer is not None:
            self.enforcer.close()


def _to_py(v):
    if isinstance(v, torch.Tensor):
        return v.item() if v.numel() == 1 else v.tolist()
    if hasattr(v, 'item') and not isinstance(v, (list, dict, str)):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return v
    return v
