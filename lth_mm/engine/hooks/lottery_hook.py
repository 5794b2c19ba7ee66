# Copyright (c) lth_mm authors. All rights reserved.
"""The lottery hook: carries out each round's pruning decision and records the round.

The lottery loops (:mod:`lth_mm.engine.loops`) fire ``before_lottery_round`` and
``after_lottery_round``; this hook answers them. Where things live:

* which masks and which weights a round starts from: :func:`lth_mm.pruning.round_start`
  (pure), carried out here;
* the rewind point and ``rewind_from`` files: :mod:`lth_mm.engine.rewind`;
* file names: :mod:`lth_mm.paths`; ticket metadata: :func:`lth_mm.pruning.ticket_meta`;
  the summary file and table: :mod:`lth_mm.report`;
* keeping pruned weights at zero: :class:`~lth_mm.engine.optim.MaskEnforcer`.

Its state (round, masks, last magnitude ticket, rewind point and snapshot file, summary
rows, settings) is saved under ``checkpoint['lth_mm']``; every rank's random states are
the :class:`RandomStateHook`'s.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.dist import broadcast_object_list, get_rank, get_world_size, is_main_process
from mmengine.hooks import CheckpointHook, EMAHook, Hook
from mmengine.registry import HOOKS

from ... import paths
from ...fileio import atomic_torch_save, atomic_write_text
from ...pruning import (LotterySettings, MaskSet, check_fits, count_parameters, load_ticket,
                        save_ticket, select_prunable, ticket_meta, zero_fraction)
from ...pruning import rounds as R
from ...report import format_summary_table, pop_round_extras, write_summary
from ..optim.mask_enforcer import MaskEnforcer
from ..rewind import RewindError, load_rewind_checkpoint, rewind_point_for_run
from ..utils import broadcast_masks, fresh_init_state, unwrap

CKPT_KEY = 'lth_mm'
STATE_VERSION = 2

__all__ = ['LotteryHook', 'RewindError', 'CKPT_KEY']


@HOOKS.register_module()
class LotteryHook(Hook):
    """Iterative magnitude pruning with rewinding, for any model an mmengine Runner trains.

    Built by :class:`~lth_mm.engine.runner.LotteryRunner` from the config's top-level
    ``lottery = dict(...)`` (every key is documented in
    :class:`~lth_mm.pruning.LotterySettings` and ``configs/_base_/lottery.py``). Weights in
    checkpoints stay a plain ``state_dict`` with pruned entries at zero, so any checkpoint
    loads into a plain mmdet/mmpose model with ``strict=True``.

    Args:
        **lottery: the ``lottery`` config block.
    """

    # After EMAHook (NORMAL) so that masking the EMA copy in ``after_train_iter`` sees the
    # updated average; before CheckpointHook (VERY_LOW) so its saves see this round's state.
    priority = 'BELOW_NORMAL'
    # Keeps its state across rounds (the loops restore every other hook between rounds).
    lottery_persistent = True

    def __init__(self, **lottery):
        self.settings = LotterySettings.from_dict(lottery)
        self.plan = self.settings.plan()
        # --- checkpointed state
        self.round = 0
        self.masks: Optional[MaskSet] = None
        self.ticket_state: Optional[dict] = None  # last magnitude ticket, for controls
        self.rewind_iter = 0
        self.snapshot_path: Optional[str] = None
        self.summary: List[dict] = []
        # --- runtime only
        self.snapshot: Optional[Dict[str, torch.Tensor]] = None
        self.enforcer: Optional[MaskEnforcer] = None
        self.prunable_names: List[str] = []
        self.network_params = 0
        self._set_up = False
        self._given = None  # Ticket of lottery.ticket / lottery.transfer
        self._rewind_from_iter = 0

    # ================================================================ set-up
    @property
    def current(self) -> dict:
        """The plan entry of the current round."""
        return self.plan[self.round]

    def before_train(self, runner) -> None:
        """Validate everything against the built Runner once, before any training.

        The loops fire ``before_train`` at the start of every round (each round is a fresh
        run of the loop); only the first call does the set-up. ``runner.test()`` and
        ``runner.val()`` never call it, so they never touch the experiment's files.
        """
        if self._set_up:
            return
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
            ' plan: ' + ', '.join(
                f"r{p['round']}:{p['kind']}" + (f"@keep{p['keep_ratio']:.3f}"
                                                if p['keep_ratio'] is not None else '')
                for p in self.plan))
        self._log_left_out(runner, model)
        if s.rewind_from is not None and self.snapshot is None:
            self.snapshot, self._rewind_from_iter = load_rewind_checkpoint(
                s.rewind_from, model.state_dict(), s.rewind_weights)
            runner.logger.info(f'[lottery] rewind state ({s.rewind_weights} weights) taken from '
                               f'{s.rewind_from}, iteration {self._rewind_from_iter}.')
        self.rewind_iter = rewind_point_for_run(
            runner, s, self._needs_snapshot(),
            self._rewind_from_iter if s.rewind_from is not None else None)
        if s.rewind_weights == 'ema' and self._needs_snapshot() and \
                not self._ema_hooks(runner):
            raise RewindError("lottery.rewind_weights='ema' needs an EMAHook in "
                              "custom_hooks; add one or use rewind_weights='raw'.")
        if s.ticket is not None:
            self._given = load_ticket(s.ticket)
            source = f'ticket {s.ticket!r}'
        elif s.transfer is not None:
            from ...transfer import build_transfer_ticket  # optional heavy imports
            self._given = build_transfer_ticket(model, self.prunable_names, **s.transfer)
            source = f"transferred ticket ({s.transfer['mode']} from {s.transfer['source']})"
        if self._given is not None:
            check_fits(self._given.masks, params, self.prunable_names, source=source)
            runner.logger.info(
                f'[lottery] training the {source}: '
                f'{100 * self._given.masks.prunable_sparsity():.2f}% of the prunable weights '
                'pruned' + (f', carrying {len(self._given.values)} start values'
                            if self._given.values else '') + '.')
        runner.message_hub.update_info('lottery/num_rounds', len(self.plan))
        self._set_up = True

    def _log_left_out(self, runner, model) -> None:
        """Log the conv-like weights the scope leaves dense, per reason, when known."""
        try:
            from ...pruning.scope import explain_scope
        except ImportError:
            return
        try:
            reasons = explain_scope(model, **self.settings.scope_dict)
        except Exception as e:  # noqa: BLE001  (a report must never stop training)
            runner.logger.warning(f'[lottery] could not explain the pruning scope: {e}')
            return
        for reason, names in (reasons or {}).items():
            if names:
                runner.logger.info(f'[lottery] left dense ({reason}): {len(names)} tensors, '
                                   f'e.g. {list(names)[:4]}')

    @staticmethod
    def _refuse_to_overwrite(runner) -> None:
        """A fresh run must not overwrite the rounds of an earlier experiment.

        Rank 0 decides and every rank raises together (a slow rank must not see the files
        rank 0 has just written, nor leave rank 0 waiting in a collective).
        """
        found = [None]
        if is_main_process() and not getattr(runner, '_resume', False):
            found = [[osp.basename(p) for p in paths.experiment_markers(runner.work_dir)]]
        if get_world_size() > 1:
            broadcast_object_list(found, src=0)
        if found[0]:
            raise FileExistsError(
                f'{runner.work_dir} already holds a lottery experiment '
                f'({", ".join(found[0])}). Pass --resume to continue it (a finished one just '
                'prints its summary), or choose another --work-dir; nothing was overwritten.')

    def _needs_snapshot(self) -> bool:
        """Whether round 0 must snapshot the weights for later rounds."""
        s = self.settings
        if s.rewind_from is not None or len(self.plan) < 2:
            return False
        return s.given_ticket or s.rewind_mode != 'lr'

    # ================================================================ checkpoints
    def state_dict(self) -> dict:
        """The hook's state (what goes into ``checkpoint['lth_mm']``)."""
        return dict(
            version=STATE_VERSION,
            round=self.round,
            masks=None if self.masks is None else self.masks.state_dict(),
            ticket=self.ticket_state,
            rewind_iter=self.rewind_iter,
            snapshot_path=self.snapshot_path,
            summary=copy.deepcopy(self.summary),
            plan=self.plan,
            settings=self.settings.to_dict(),
        )

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add the lottery state; master-only, so no collectives here."""
        checkpoint[CKPT_KEY] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the lottery state when resuming (runs before the weights are loaded)."""
        state = checkpoint.get(CKPT_KEY)
        if state is None or not getattr(runner, '_resume', False):
            if state is not None:
                runner.logger.info("[lottery] load_from: weights only; the checkpoint's "
                                   'lottery state (round, masks) is not resumed.')
            return
        if state.get('version') != STATE_VERSION:
            raise ValueError(f'Cannot resume: the checkpoint has lottery state version '
                             f"{state.get('version')}, this lth_mm writes {STATE_VERSION}. "
                             'Resume with the lth_mm version that wrote it.')
        differing = self.settings.differences(state.get('settings', {}))
        if differing:
            old = state.get('settings', {})
            raise ValueError(
                'Cannot resume: the lottery settings differ from the checkpoint\'s in ' +
                ', '.join(f'{k} (checkpoint {old.get(k)!r}, config '
                          f'{self.settings.to_dict().get(k)!r})' for k in differing) +
                '. Resume with the same lottery settings, or start a new work_dir.')
        self.round = state['round']
        self.ticket_state = state['ticket']
        self.rewind_iter = state['rewind_iter']
        self.snapshot_path = state['snapshot_path']
        self.summary = list(state['summary'])
        self.masks = None if state['masks'] is None else MaskSet.from_state_dict(state['masks'])
        if self.snapshot is None and self.snapshot_path is not None:
            if not osp.isfile(self.snapshot_path):
                raise RewindError(
                    f'Cannot resume: the rewind snapshot {self.snapshot_path} recorded in the '
                    f'checkpoint is not visible on rank {get_rank()}. Every rank reads it, as '
                    'every rank reads the checkpoint itself: keep work_dir on a file system '
                    'all nodes share, or restore the file.')
            self.snapshot = torch.load(self.snapshot_path, map_location='cpu',
                                       weights_only=True)['state_dict']
        runner.logger.info(f'[lottery] resuming at round {self.round}.')

    # ================================================================ per iteration
    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Take the rewind snapshot at iteration ``rewind_iter`` of round 0."""
        if (self.round == 0 and self.snapshot is None and self._needs_snapshot()
                and runner.iter == self.rewind_iter):
            self._take_snapshot(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Mask the EMA copies too (their average of zeros is zero; this makes it certain)."""
        if self.enforcer is not None and self.enforcer.active:
            for h in self._ema_hooks(runner):
                self.enforcer.apply(h.ema_model.module)

    def _take_snapshot(self, runner) -> None:
        source = unwrap(runner.model)
        if self.settings.rewind_weights == 'ema':
            source = self._ema_hooks(runner)[0].ema_model.module
        # Clone: the official VOC/ImageNet code kept references to the live tensors, so its
        # "rewind" reloaded the final weights.
        self.snapshot = {k: v.detach().to('cpu', copy=True) for k, v in
                         source.state_dict().items()}
        self.snapshot_path = paths.snapshot(runner.work_dir)
        if is_main_process():
            atomic_torch_save(dict(state_dict=self.snapshot,
                                   meta=dict(iter=runner.iter, round=self.round,
                                             weights=self.settings.rewind_weights)),
                              self.snapshot_path)
        runner.logger.info(f'[lottery] rewind snapshot ({self.settings.rewind_weights} weights) '
                           f'taken at iteration {runner.iter} -> {self.snapshot_path}')

    @staticmethod
    def _ema_hooks(runner) -> list:
        return [h for h in runner.hooks if isinstance(h, EMAHook)]

    # ================================================================ round boundaries
    def before_lottery_round(self, runner, lottery_round: int, resumed: bool = False) -> None:
        """Start round ``lottery_round``: decide and apply its masks and weights.

        Args:
            runner: the Runner.
            lottery_round: the round index.
            resumed: the round was interrupted and resumes from a checkpoint of it.
        """
        self.round = lottery_round
        entry = self.current
        hub = runner.message_hub
        for key, value in (('round', lottery_round), ('kind', entry['kind']),
                           ('keep_ratio', entry['keep_ratio']),
                           ('rewind_iter', self.rewind_iter)):
            hub.update_info(f'lottery/{key}', value)
        self._use_round_dirs(runner)
        model = unwrap(runner.model)
        if resumed:
            if self.masks is not None:
                self.masks.bind_(dict(model.named_parameters()))
                self.enforcer.set_masks(self.masks)
                self.enforcer.apply()
            self.enforcer.attach(runner.optim_wrapper)
            hub.update_info('lottery/start_iter', 0)
            runner.logger.info(f'[lottery] round {self.round} ({entry["kind"]}) resumed at '
                               f'iteration {runner.iter}.')
            return
        decision = self._decide(model)
        self._apply_masks(model, decision.masks)
        self._set_weights(runner, model, decision.weights)
        self.enforcer.apply()
        self.enforcer.attach(runner.optim_wrapper)
        self._reset_ema(runner, model)
        hub.update_info('lottery/start_iter', decision.start_iter)
        self._save_ticket(runner)
        if self.masks is not None:
            runner.logger.info(
                f'[lottery] round {self.round} ({entry["kind"]}): keep '
                f'{1 - self.masks.prunable_sparsity():.4f} of the prunable weights, network '
                f'sparsity {100 * self.masks.network_sparsity(self.network_params):.2f}%, '
                f'weights: {decision.weights}')
        else:
            runner.logger.info(f'[lottery] round {self.round} (dense)')

    def _decide(self, model) -> R.RoundStart:
        entry = self.current
        params = dict(model.named_parameters())
        if self.masks is not None:
            self.masks.bind_(params)  # restored from a checkpoint: CPU until bound
        return R.round_start(
            entry['kind'],
            weights=lambda: {n: params[n].detach() for n in self.prunable_names},
            current=None if self.masks is None else self.masks.as_bool(),
            keep_ratio=entry['keep_ratio'],
            criterion=self.settings.criterion,
            generator=torch.Generator().manual_seed(int(self.settings.seed) + 1000 * self.round),
            rewind_mode=self.settings.rewind_mode,
            rewind_iter=self.rewind_iter,
            ticket=None if self.ticket_state is None else
            MaskSet.from_state_dict(self.ticket_state).as_bool(),
            given=None if self._given is None else self._given.masks.as_bool(),
            has_rewind_state=self.snapshot is not None)

    def _apply_masks(self, model, masks: Optional[Dict[str, torch.Tensor]]) -> None:
        if masks is None:
            return
        params = dict(model.named_parameters())
        masks = broadcast_masks({n: m.to(params[n].device) for n, m in masks.items()})
        if self.masks is None:
            self.masks = MaskSet(masks)
            self.enforcer.set_masks(self.masks)
        else:
            self.masks.update_(masks)
            if self.enforcer.masks is not self.masks:
                self.enforcer.set_masks(self.masks)

    def _set_weights(self, runner, model, source: str) -> None:
        if source == R.KEEP:
            return
        if source == R.REWIND:
            if self.snapshot is None:
                raise RewindError(f'round {self.round} needs the rewind state but round 0 '
                                  'ended before taking it (internal error).')
            model.load_state_dict(self.snapshot, strict=True)  # copies into live tensors
            runner.logger.info(f'[lottery] rewound to iteration {self.rewind_iter}.')
        elif source == R.INITIAL:
            self._load_given_values(runner, model)
        elif source == R.FRESH_INIT:
            state = fresh_init_state(runner.cfg.model, seed=int(self.settings.seed) + 7919 *
                                     (self.round + 1))
            model.load_state_dict(state, strict=True)
            runner.logger.info('[lottery] weights re-initialised at random (the model\'s own '
                               'initialisation rules, pretrained loading left out).')

    def _load_given_values(self, runner, model) -> None:
        values = None if self._given is None else self._given.values
        if not values:
            return
        missing = [k for k in values if k not in model.state_dict()]
        if missing:
            raise RewindError(f'the given ticket carries values for {missing[:5]}, which the '
                              'model does not have.')
        model.load_state_dict(values, strict=False)
        runner.logger.info(f'[lottery] loaded {len(values)} start values from the ticket.')

    def _reset_ema(self, runner, model) -> None:
        """Restart every EMA from the round's starting (masked) weights."""
        for h in self._ema_hooks(runner):
            if hasattr(h, 'ema_model'):
                h.ema_model.module.load_state_dict(model.state_dict())
                h.ema_model.steps.zero_()

    def _use_round_dirs(self, runner) -> None:
        """Point every CheckpointHook at ``<its dir>/round_{r}`` (set by its before_train)."""
        for h in runner.hooks:
            # The loops restore out_dir to its value before round 0 between rounds, and
            # CheckpointHook.before_train resolves it from there.
            if isinstance(h, CheckpointHook) and h.out_dir is not None:
                h.out_dir = h.file_backend.join_path(
                    h.out_dir, osp.basename(paths.round_dir('', self.round)))

    def _round_meta(self) -> dict:
        s = self.settings
        return dict(round=self.round, kind=self.current['kind'],
                    planned_keep_ratio=self.current['keep_ratio'], scope=s.scope_dict,
                    criterion=s.criterion, seed=s.seed, transfer=s.transfer,
                    rewind=dict(iter=self.rewind_iter, mode=s.rewind_mode,
                                weights=s.rewind_weights, snapshot=self.snapshot_path,
                                rewind_from=s.rewind_from),
                    given_ticket=s.ticket)

    def _save_ticket(self, runner) -> None:
        if not is_main_process():
            return
        masks = self.masks if self.masks is not None else MaskSet(
            {n: torch.ones(p.shape, dtype=torch.bool)
             for n, p in unwrap(runner.model).named_parameters() if n in self.prunable_names})
        save_ticket(paths.ticket(runner.work_dir, self.round), masks,
                    ticket_meta(masks, self.network_params, **self._round_meta()),
                    values=None if self._given is None or self.round else self._given.values)

    def after_lottery_round(self, runner, lottery_round: int, metrics: dict) -> None:
        """Record the round: summary row, final checkpoint, visualizer scalars.

        Args:
            runner: the Runner.
            lottery_round: the round index.
            metrics: the evaluator's final dict of the round (empty without validation).
        """
        if self.round == 0 and self.snapshot is None and self._needs_snapshot():
            raise RewindError(
                f'Round 0 ended at iteration {runner.iter}, before the rewind point '
                f'(iteration {self.rewind_iter}), so later rounds have nothing to rewind to '
                '(an EarlyStoppingHook or early-bird stop?). Lower lottery.rewind_iter / '
                'rewind_epochs, or let round 0 run past it.')
        entry = self.current
        model = unwrap(runner.model)
        params = dict(model.named_parameters())
        masks = self.masks
        keep = 1.0 if masks is None else 1 - masks.prunable_sparsity()
        row = dict(
            round=self.round, kind=entry['kind'],
            keep_ratio=keep if entry['keep_ratio'] is None else entry['keep_ratio'],
            prunable_sparsity=0.0 if masks is None else masks.prunable_sparsity(),
            network_sparsity=0.0 if masks is None else masks.network_sparsity(
                self.network_params),
            zero_fraction_of_prunable=zero_fraction(
                params[n].detach() for n in self.prunable_names),
            metrics={k: _to_py(v) for k, v in (metrics or {}).items()},
            best_checkpoint=runner.message_hub.get_info('best_ckpt', None),
            final_checkpoint=paths.final_checkpoint(runner.work_dir, self.round),
            rewind_iter=self.rewind_iter,
            iters=runner.iter,
            extras=pop_round_extras(runner.message_hub),
        )
        self.summary = [r for r in self.summary if r['round'] != self.round] + [row]
        if entry['kind'] == R.TICKET:
            self.ticket_state = masks.state_dict()
        if is_main_process():
            write_summary(runner.work_dir, dict(plan=self.plan,
                                                settings=self.settings.to_dict(),
                                                network_params=self.network_params,
                                                rounds=self.summary))
        self._log_to_visualizer(runner, row)
        # After the evaluation: resuming from it starts the next round directly.
        runner.save_checkpoint(paths.round_dir(runner.work_dir, self.round),
                               paths.FINAL_CHECKPOINT, save_optimizer=False,
                               save_param_scheduler=False,
                               meta=dict(epoch=runner.epoch, iter=runner.iter))
        if is_main_process():
            atomic_write_text(row['final_checkpoint'], osp.join(runner.work_dir,
                                                                'last_checkpoint'))
        runner.logger.info(f'[lottery] round {self.round} done: ' + ', '.join(
            f'{k}={v:.4f}' for k, v in row['metrics'].items() if isinstance(v, float)))

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
        runner.logger.info('[lottery] summary\n' + format_summary_table(self.summary))

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
