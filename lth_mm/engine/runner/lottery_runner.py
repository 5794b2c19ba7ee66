# Copyright (c) lth_mm authors. All rights reserved.
"""The entry point that turns any mmdet/mmpose/mmpretrain config into a lottery experiment.

``configs/_base_/lottery.py`` sets ``runner_type = 'LotteryRunner'``; mmdet's, mmpose's and
our ``tools/train.py`` build ``RUNNERS.build(cfg)``, which calls
:meth:`LotteryRunner.from_cfg`. A level of the lottery is "prune, then train" (open_lth's
``lottery/runner.py``): for each round of the plan this orchestrator

1. builds a **fresh mmengine Runner** from the user's config, with ``work_dir/round_{r}``
   as its work_dir and a name unique in the process, so every hook, the model, the
   dataloaders, samplers and workers, the optimizer, the schedulers and the visualizer
   are new, exactly as mmdet builds them;
2. writes the round's ``ticket.pth`` and ``start.pth`` (:mod:`lth_mm.engine.round_files`)
   and lets that Runner load (or, for ``rewind_mode='continue'``, resume) the start file
   through mmengine's own ``load_from``/``resume``;
3. adds four small hooks (masks, rewind snapshot, random states, round bookkeeping),
   trains, records the round in the experiment file and releases the Runner.

``--resume`` resumes the first unfinished round with mmengine's own resume from its
``last_checkpoint`` (or starts it from its start file); finished rounds are skipped.
"""
import copy
import gc
import itertools
import os.path as osp
import time
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config
from mmengine.dist import barrier, broadcast_object_list, get_world_size, is_main_process
from mmengine.logging import MMLogger
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ... import paths
from ...pruning import (LotteryConfigError, LotterySettings, check_fits, format_collapse,
                        is_structured, model_structure)
from ...pruning import rounds as R
from ..experiment import Experiment
from ..hooks import (CompactTicketHook, LotteryRoundHook, RandomStateHook, RewindSnapshotHook,
                     TicketMaskHook)
from ..checkpoint_io import read_ticket
from ..round_files import round_files_exist, start_spec, write_round_files
from ..utils import unwrap
from .preflight import check_lottery_block_name, check_rewind_fits_schedule
from .setup import (TransferTicketHook, checked_rewind_state, init_distributed, log_scope,
                    experiment_visualizer, needs_snapshot, open_experiment,
                    TransferRefused, roll_back, round_config, round_scalars, summary_row)

_RUN_IDS = itertools.count()  # names unique in the process (see round_config)


class SetupError(Exception):
    """Carries (as ``__cause__``) an error raised while a round was being set up."""


@RUNNERS.register_module()
class LotteryRunner:
    """Runs every round of a lottery experiment, each as its own mmengine Runner.

    Use it through the config (``runner_type = 'LotteryRunner'``, set by our ``_base_``).

    Args:
        cfg: the full config, with a top-level ``lottery`` dict.
    """

    def __init__(self, cfg: Config):
        self.cfg = copy.deepcopy(cfg)
        # Everything the config alone tells is checked here, before anything is written
        # (mmengine's Runner creates work_dir/<timestamp> and dumps the config when built).
        check_lottery_block_name(cfg)
        self.settings = LotterySettings.from_dict(cfg.get('lottery'))
        if not cfg.get('train_cfg'):
            raise LotteryConfigError('A lottery experiment trains: the config needs '
                                     '`train_cfg`.')
        if not cfg.get('work_dir'):
            raise LotteryConfigError('A lottery experiment needs `work_dir` (tools/train.py '
                                     'sets it from the config name).')
        check_rewind_fits_schedule(cfg, self.settings)
        self.work_dir = osp.abspath(cfg.work_dir)
        self.experiment: Optional[Experiment] = None
        self.logger: Optional[MMLogger] = None
        self._user_hooks: List[Tuple[object, Optional[str]]] = []
        self._eval_runner: Optional[Runner] = None
        self._prunable: Optional[List[str]] = None
        self._visualizer = None

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'LotteryRunner':
        """Validate the lottery block (before anything is built or written)."""
        return cls(cfg)

    def register_hook(self, hook, priority=None) -> None:
        """Register a hook instance on every round's Runner (it then spans the rounds).

        Args:
            hook: a :class:`~mmengine.hooks.Hook` instance.
            priority: as for :meth:`mmengine.runner.Runner.register_hook`.
        """
        self._user_hooks.append((hook, priority))

    # ================================================================ training
    def train(self) -> None:
        """Run every round that has not finished yet, then print the summary."""
        init_distributed(self.cfg)
        existed = osp.isdir(self.work_dir)
        self.experiment, created = open_experiment(self.cfg, self.settings, self.work_dir)
        exp = self.experiment
        timestamp = [time.strftime('%Y%m%d_%H%M%S', time.localtime())]
        if get_world_size() > 1:
            broadcast_object_list(timestamp, src=0)
        log_file = paths.experiment_log(self.work_dir, timestamp[0])
        self.logger = MMLogger.get_instance(
            f'lth_mm_{next(_RUN_IDS)}_{timestamp[0]}', logger_name='lth_mm',
            log_file=log_file, log_level=self.cfg.get('log_level', 'INFO'))
        plan = exp.plan
        self.logger.info('[lottery] plan: ' + ', '.join(
            f"r{p['round']}:{p['kind']}" + (f"@keep{p['keep_ratio']:.3f}"
                                            if p['keep_ratio'] is not None else '')
            for p in plan) + f'; seed {exp.seed}; work_dir {self.work_dir}')
        if self.settings.given_ticket and self.settings.rounds != 1:
            self.logger.info(f'[lottery] a given ticket trains once: lottery.rounds='
                             f'{self.settings.rounds} counts pruning rounds and does not '
                             'apply (repeats of one ticket are seeds: tools/seeds.py).')
        r = exp.next_round()
        if r > 0 and r < len(plan):
            self.logger.info(f'[lottery] rounds 0..{r - 1} are finished; resuming at round {r}.')
        self._visualizer = experiment_visualizer(self.cfg, self.work_dir, next(_RUN_IDS))
        while r < len(plan):
            try:
                self._train_round(r)
            except SetupError as e:  # refused before round 0 trained: leave nothing behind
                if created and r == 0:
                    roll_back(self.work_dir, existed, log_file)
                raise e.__cause__ from None
            r += 1
        self._visualizer.close()
        from ...report import format_summary_table
        self.logger.info('[lottery] summary\n' + format_summary_table(exp.rows))

    def _train_round(self, r: int) -> None:
        exp = self.experiment
        t0 = time.perf_counter()
        resume_mid = [osp.isfile(osp.join(paths.round_dir(self.work_dir, r),
                                          'last_checkpoint'))]
        if get_world_size() > 1:
            broadcast_object_list(resume_mid, src=0)
        resume_mid = resume_mid[0]
        try:
            spec = start_spec(exp, r)
            cfg = round_config(self.cfg, r, self.work_dir, exp.seed, spec, resume_mid,
                               next(_RUN_IDS))
            runner, hooks = self._set_up_round(r, cfg, spec, resume_mid)
            round_hook = next(h for h, _ in hooks if isinstance(h, LotteryRoundHook))
        except Exception as e:
            raise SetupError() from e
        start = 'resuming its last checkpoint' if resume_mid else f'from {spec.load_from}'
        self.logger.info(f'[lottery] round {r} set up in {time.perf_counter() - t0:.1f} s '
                         f'({start}).')
        t1 = time.perf_counter()
        try:
            runner.train()
        except TransferRefused as e:  # refused in before_train: nothing trained yet
            raise SetupError() from e
        row = summary_row(runner, exp, r, round_hook.metrics, setup_s=t1 - t0,
                          train_s=time.perf_counter() - t1)
        exp.add_row(row)
        if is_main_process():
            exp.save()
            self._visualizer.add_scalars(round_scalars(row), step=r)
        self.logger.info(f'[lottery] round {r} done in {row["train_seconds"]:.0f} s: ' +
                         ', '.join(f'{k}={v:.4f}' for k, v in row['metrics'].items()
                                   if isinstance(v, float)))
        del runner, hooks, round_hook
        _release()
        barrier()

    def _set_up_round(self, r, cfg, spec, resume_mid):
        """Build round r's Runner, write its start files, register the round's hooks."""
        exp, s = self.experiment, self.settings
        runner = Runner.from_cfg(cfg)
        model = unwrap(runner.model)
        if self._prunable is None:
            self._prunable = log_scope(self.logger, model, s)
        if exp.rewind_iter is None or exp.data.get('network_params') is None:
            k = checked_rewind_state(runner, s, model, plan_length=len(exp.plan))
            exp.set_rewind_iter(k)
            exp.set_network_params(sum(p.numel() for p in model.parameters()))
            if is_main_process():
                exp.save()
        entry = exp.plan[r]
        transfer_now = r == 0 and s.transfer is not None and not resume_mid
        to_write = not resume_mid and not round_files_exist(exp, r)
        structure = None
        if to_write and entry['kind'] in (R.TICKET, R.RANDOM_TICKET) and is_structured(
                s.criterion):
            # On every rank: the probe forward of detectors whose losses all-reduce
            # (reduce_mean) must run on all ranks, not on rank 0 alone.
            structure = model_structure(model, self._prunable, s.criterion)
        if to_write and is_main_process():
            if not transfer_now:
                given = None
                if r == 0 and s.ticket is not None:
                    given = read_ticket(s.ticket, 'lottery.ticket')
                    # A channel ticket also masks norms, biases and readers' inputs.
                    scope = None if is_structured(given.meta.get('criterion')) else \
                        self._prunable
                    check_fits(given.masks, dict(model.named_parameters()), scope,
                               source=f'ticket {s.ticket!r}')
                meta = write_round_files(exp, r, model, self._prunable, self.cfg.model,
                                         given=given, structure=structure)
                self.logger.info(
                    f"[lottery] round {r} ({entry['kind']}): keep "
                    f"{1 - meta['prunable_sparsity']:.4f} of the prunable weights, network "
                    f"sparsity {100 * meta['network_sparsity']:.2f}%, weights: "
                    f"{meta['start_weights']}")
                if r > 0:
                    collapsed = [(c['name'], c['density'], c['numel'])
                                 for c in meta['collapsed']]
                    log = self.logger.warning if collapsed else self.logger.info
                    log(f'[lottery] round {r}: {format_collapse(collapsed)}')
        barrier()
        ticket = paths.ticket(self.work_dir, r)
        hooks = [(RandomStateHook(), None),
                 (LotteryRoundHook(r, len(exp.plan), entry['kind'], entry['keep_ratio'],
                                   self.work_dir, interval=_log_interval(self.cfg)), None),
                 (TicketMaskHook(ticket, load_values=(r == 0 and not resume_mid)), None)]
        if transfer_now:
            hooks.append((TransferTicketHook(exp, self._prunable), None))
        # The compact lossless ticket, its size and MACs per round; a user's own entry
        # (e.g. dict(type='CompactTicketHook', count_macs=False)) wins.
        if not any(_type_name(h) == 'CompactTicketHook' for h in cfg.get('custom_hooks') or []):
            hooks.append((CompactTicketHook(), None))
        if r == 0 and needs_snapshot(s, len(exp.plan)):
            hooks.append((RewindSnapshotHook(exp.rewind_iter, paths.snapshot(self.work_dir),
                                             save_optimizer=s.rewind_mode == 'continue'),
                          None))
        for hook, priority in hooks + self._user_hooks:
            runner.register_hook(hook, priority)
        return runner, hooks

    # ================================================================ evaluation
    def _evaluation_runner(self) -> Runner:
        """One Runner that tests/validates a checkpoint of the experiment (built once)."""
        if self._eval_runner is None:
            init_distributed(self.cfg)
            cfg = round_config(self.cfg, None, self.work_dir, None, None, False,
                               next(_RUN_IDS))
            checkpoint = self.cfg.get('load_from')
            if checkpoint is None:
                if not Experiment.exists(self.work_dir):
                    raise FileNotFoundError(
                        f'{self.work_dir} holds no lottery experiment and no checkpoint was '
                        'given: pass one (tools/test.py CONFIG CHECKPOINT).')
                exp = Experiment.open(self.work_dir, self.settings)
                if not exp.rows:
                    raise FileNotFoundError(f'no round of {self.work_dir} has finished: pass '
                                            'a checkpoint (tools/test.py CONFIG CHECKPOINT).')
                checkpoint = exp.rows[-1]['final_checkpoint']
            cfg.load_from = checkpoint
            self._eval_runner = Runner.from_cfg(cfg)
            self._eval_runner.logger.info(f'[lottery] evaluating {checkpoint}')
        return self._eval_runner

    def test(self) -> dict:
        """Test a checkpoint: ``load_from``, else the last finished round's final weights.

        Returns:
            dict: the test metrics.
        """
        return self._evaluation_runner().test()

    def val(self) -> dict:
        """Validate a checkpoint (chosen as for :meth:`test`).

        Returns:
            dict: the validation metrics.
        """
        return self._evaluation_runner().val()

    @property
    def test_evaluator(self):
        """The test evaluator of the evaluation Runner (mmdet's ``--out`` appends to it)."""
        return self._evaluation_runner().test_evaluator


def _type_name(hook_cfg) -> str:
    t = hook_cfg.get('type') if isinstance(hook_cfg, dict) else type(hook_cfg)
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def _log_interval(cfg) -> int:
    logger = (cfg.get('default_hooks') or {}).get('logger') or {}
    return int(logger.get('interval', 50)) if isinstance(logger, dict) else 50


def _release() -> None:
    """Free a finished round's Runner now: reference cycles keep it until a collection."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
