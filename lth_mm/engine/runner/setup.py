# Copyright (c) lth_mm authors. All rights reserved.
"""The orchestrator's steps that are not a loop over rounds (see :mod:`.lottery_runner`)."""
import copy
import os
import os.path as osp
import shutil
from typing import List, Optional, Tuple

from mmengine.dist import (barrier, broadcast_object_list, get_world_size, is_distributed,
                           is_main_process, sync_random_seed)
from mmengine.hooks import EMAHook, Hook

from ... import paths
from ...pruning import (LotterySettings, check_fits, load_ticket, save_ticket,
                        select_prunable, ticket_meta, zero_fraction)
from ...report import pop_round_extras
from ..checkpoint_io import read_weights
from ..experiment import Experiment, ExperimentError
from ..rewind import RewindError, rewind_point_for_run
from ..round_files import RoundStartSpec, round_meta
from ..utils import unwrap


def needs_snapshot(settings: LotterySettings, num_rounds: int) -> bool:
    """Whether round 0 must snapshot its weights for later rounds."""
    if settings.rewind_from is not None or num_rounds < 2:
        return False
    return settings.given_ticket or settings.rewind_mode != 'lr'


def init_distributed(cfg) -> None:
    """Start the process group once for all rounds (each Runner then finds it)."""
    launcher = cfg.get('launcher', 'none')
    if launcher != 'none' and not is_distributed():
        from mmengine.dist import init_dist
        init_dist(launcher, **dict((cfg.get('env_cfg') or {}).get('dist_cfg') or {}))


def open_experiment(cfg, settings: LotterySettings, work_dir: str) -> Tuple[Experiment, bool]:
    """Create the experiment file, or open it for ``--resume``; refuse anything else.

    Rank 0 decides and every rank raises together, before anything is written.

    Args:
        cfg: the full config (``resume``, ``load_from``, ``randomness``).
        settings: the validated lottery settings.
        work_dir: the experiment's work_dir.

    Returns:
        tuple: the experiment, and whether this call created it.

    Raises:
        FileExistsError: ``work_dir`` holds an experiment and ``--resume`` was not given.
        ExperimentError: the experiment there has other settings or another version.
    """
    resume = bool(cfg.get('resume', False))
    seed = (cfg.get('randomness') or {}).get('seed')
    if seed is None:  # drawn once (by rank 0) and kept: every round gets the same
        seed = sync_random_seed()
    result = [None]
    if is_main_process():
        try:
            created = not Experiment.exists(work_dir)
            exp = _open_or_create(work_dir, settings, resume, int(seed), cfg.get('load_from'))
            result = [('ok', exp.data, created)]
        except (FileExistsError, ExperimentError, FileNotFoundError) as e:
            result = [('error', type(e), str(e))]
    if get_world_size() > 1:
        broadcast_object_list(result, src=0)
    if result[0][0] == 'error':
        raise result[0][1](result[0][2])
    return Experiment(work_dir, settings, result[0][1]), result[0][2]


def roll_back(work_dir: str, existed: bool, log_file: str) -> None:
    """Remove what a refused first start wrote (rank 0), so a corrected rerun can start.

    Args:
        work_dir: the experiment's work_dir.
        existed: whether ``work_dir`` existed before this run.
        log_file: the experiment log this run opened.
    """
    if not is_main_process():
        return
    if not existed:
        shutil.rmtree(work_dir, ignore_errors=True)
        return
    shutil.rmtree(paths.round_dir(work_dir, 0), ignore_errors=True)
    for path in (paths.summary_json(work_dir), paths.summary_txt(work_dir), log_file):
        if osp.isfile(path):
            os.remove(path)


def _open_or_create(work_dir, settings, resume, seed, load_from) -> Experiment:
    if Experiment.exists(work_dir):
        if not resume:
            found = [osp.basename(p) for p in paths.experiment_markers(work_dir)]
            raise FileExistsError(
                f'{work_dir} already holds a lottery experiment ({", ".join(found)}). Pass '
                '--resume to continue it (a finished one just prints its summary), or choose '
                'another --work-dir; nothing was written.')
        return Experiment.open(work_dir, settings)
    found = [osp.basename(p) for p in paths.experiment_markers(work_dir)]
    if found:
        raise FileExistsError(
            f'{work_dir} holds lottery files ({", ".join(found)}) but no experiment file '
            f'{paths.SUMMARY_JSON} (an interrupted start, or an older lth_mm): choose another '
            '--work-dir; nothing was written.')
    exp = Experiment.create(work_dir, settings, seed, load_from)
    exp.save()
    return exp


def round_config(cfg, r: Optional[int], work_dir: str, seed: Optional[int],
                 spec: Optional[RoundStartSpec], resume_mid: bool, run_id: int):
    """The plain mmengine config of round ``r`` (``None``: the evaluation Runner).

    Args:
        cfg: the user's full config.
        r: the round, or None for ``test()``/``val()``.
        work_dir: the experiment's work_dir.
        seed: the experiment's seed (None: leave ``randomness`` as it is).
        spec: where the round starts (None for evaluation).
        resume_mid: the round resumes its own ``last_checkpoint``.
        run_id: a number unique in the process.

    Returns:
        Config: the config a plain ``Runner.from_cfg`` builds.
    """
    cfg = copy.deepcopy(cfg)
    # A plain Runner; the lottery block stays for the hooks that read it (and the record).
    cfg.pop('runner_type', None)
    stem = osp.basename(osp.normpath(work_dir))
    # mmengine names the MessageHub, MMLogger and Visualizer instances after the experiment
    # and hands back an existing one of the same name: every Runner of the process needs
    # its own (mmdet configs name their visualizer 'visualizer').
    name = f'{stem}_{"test" if r is None else f"round{r}"}_{run_id}'
    cfg.experiment_name = name
    if isinstance(cfg.get('visualizer'), dict):
        cfg.visualizer['name'] = name
    cfg.work_dir = paths.test_dir(work_dir) if r is None else paths.round_dir(work_dir, r)
    if seed is not None:
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=int(seed))
    if r is not None:
        cfg.resume = True if resume_mid else spec.resume
        cfg.load_from = None if resume_mid else spec.load_from
        # First of the custom hooks (registered in this order at HIGHEST priority), so no
        # hook of the user's, however high, draws before the random states are back.
        cfg.custom_hooks = [dict(type='RestoreRandomStateHook', restore=resume_mid)] + \
            list(cfg.get('custom_hooks') or [])
    elif isinstance((cfg.get('default_hooks') or {}).get('checkpoint'), dict):
        # Evaluation saves nothing; CheckpointHook's save_best needs state only training sets.
        cfg.default_hooks.checkpoint['save_best'] = None
    # CheckpointHook/LoggerHook put files under out_dir/<basename of work_dir>: without
    # the experiment's name every experiment would share out_dir/round_{r}.
    for key in ('checkpoint', 'logger'):
        hook = (cfg.get('default_hooks') or {}).get(key)
        if isinstance(hook, dict) and hook.get('out_dir'):
            hook['out_dir'] = osp.join(hook['out_dir'], stem)
    return cfg


def log_scope(logger, model, settings: LotterySettings) -> List[str]:
    """Select the prunable weights and log what the scope covers and leaves dense.

    Returns:
        list[str]: the prunable parameter names.
    """
    names = select_prunable(model, **settings.scope_dict)
    params = dict(model.named_parameters())
    total = sum(p.numel() for p in params.values())
    covered = sum(params[n].numel() for n in names)
    logger.info(f'[lottery] {len(names)} prunable tensors, {covered:,} of {total:,} '
                f'parameters ({100 * covered / max(total, 1):.2f}%)')
    try:
        from ...pruning.scope_table import format_scope_short, scope_table
        lines = format_scope_short(scope_table(model, **settings.scope_dict))
    except Exception as e:  # noqa: BLE001  (a report must never stop training)
        logger.warning(f'[lottery] could not explain the pruning scope: {e}')
        return names
    for line in lines:
        logger.info(f'[lottery] {line}')
    return names


def checked_rewind_state(runner, settings: LotterySettings, model, plan_length: int) -> int:
    """Resolve and check the rewind point against round 0's Runner (before training).

    Args:
        runner: round 0's Runner (its train loop is built here).
        settings: the lottery settings.
        model: the unwrapped model.
        plan_length: rounds in the plan.

    Returns:
        int: the rewind iteration.

    Raises:
        RewindError: an unreadable ``rewind_from``, a point beyond a round, or
            ``rewind_weights='ema'`` without an ``EMAHook``.
    """
    s = settings
    needs = needs_snapshot(s, plan_length)
    from_iter = None
    if s.rewind_from is not None:
        _, from_iter = read_weights(s.rewind_from, model.state_dict(), s.rewind_weights,
                                    what='lottery.rewind_from', error=RewindError)
        runner.logger.info(f'[lottery] rewind state ({s.rewind_weights} weights) taken from '
                           f'{s.rewind_from}, iteration {from_iter}.')
    k = rewind_point_for_run(runner, s, needs, from_iter)
    if s.rewind_weights == 'ema' and needs and not any(
            isinstance(h, EMAHook) for h in runner.hooks):
        raise RewindError("lottery.rewind_weights='ema' needs an EMAHook in custom_hooks; "
                          "add one or use rewind_weights='raw'.")
    return k


def summary_row(runner, exp: Experiment, r: int, metrics: dict, setup_s: float,
                train_s: float) -> dict:
    """The finished round's row of the experiment file."""
    ticket = load_ticket(paths.ticket(exp.work_dir, r))
    masks = ticket.masks
    params = dict(unwrap(runner.model).named_parameters())
    entry = exp.plan[r]
    sparsity = masks.prunable_sparsity()
    return dict(
        round=r, kind=entry['kind'],
        keep_ratio=1 - sparsity if entry['keep_ratio'] is None else entry['keep_ratio'],
        prunable_sparsity=sparsity,
        network_sparsity=masks.network_sparsity(exp.data['network_params']),
        zero_fraction_of_prunable=zero_fraction(params[n].detach() for n in masks.names()),
        metrics={k: _to_py(v) for k, v in (metrics or {}).items()},
        best_checkpoint=runner.message_hub.get_info('best_ckpt', None),
        final_checkpoint=paths.final_checkpoint(exp.work_dir, r),
        rewind_iter=exp.rewind_iter, iters=runner.iter,
        collapsed=[c['name'] for c in ticket.meta.get('collapsed', [])],
        setup_seconds=round(setup_s, 2), train_seconds=round(train_s, 2),
        extras=pop_round_extras(runner.message_hub))


def experiment_visualizer(cfg, work_dir: str, run_id: int):
    """A visualizer for the experiment-level scalars (one point per round).

    Each round's Runner has its own visualizer (its curves, one backend run per round:
    ``round_{r}/<timestamp>/vis_data`` for TensorBoard, one W&B run per round); the
    per-round metrics and sparsities go to this one, with the user's backends, under
    ``work_dir/lottery_vis``.

    Returns:
        Visualizer
    """
    from mmengine.visualization import Visualizer
    backends = copy.deepcopy((cfg.get('visualizer') or {}).get('vis_backends') or
                             [dict(type='LocalVisBackend')])
    return Visualizer.get_instance(
        name=f'{osp.basename(osp.normpath(work_dir))}_experiment_{run_id}',
        vis_backends=[dict(b) for b in backends], save_dir=paths.experiment_vis_dir(work_dir))


def round_scalars(row: dict) -> dict:
    """The experiment-level scalars of a finished round's summary row."""
    scalars = {'lottery/keep_ratio': row['keep_ratio'],
               'lottery/prunable_sparsity': row['prunable_sparsity'],
               'lottery/network_sparsity': row['network_sparsity']}
    scalars.update({f'lottery/{k}': v for k, v in row['metrics'].items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)})
    return scalars


class TransferTicketHook(Hook):
    """Round 0 of ``lottery.transfer``: build the ticket from the initialised model.

    The transfer reads the target's initial weights (``mask`` mode thresholds them with
    the source's), which exist only after the Runner initialised or loaded the model, so
    the ticket is written in ``before_train``, before :class:`TicketMaskHook` reads it.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, exp: Experiment, prunable: List[str]):
        self.exp, self.prunable = exp, prunable

    def before_train(self, runner) -> None:
        path = paths.ticket(self.exp.work_dir, 0)
        error = [None]
        if is_main_process() and not osp.isfile(path):
            try:
                self._write_ticket(runner, path)
            except Exception as e:  # noqa: BLE001  (every rank must learn of it)
                error[0] = f'{type(e).__name__}: {e}'  # a string pickles on every rank
        if get_world_size() > 1:  # rank 0 alone builds the ticket: all ranks raise together
            broadcast_object_list(error, src=0)
        if error[0] is not None:
            raise TransferRefused(error[0])
        barrier()

    def _write_ticket(self, runner, path: str) -> None:
        from ...transfer import build_transfer_ticket  # optional heavy imports
        s = self.exp.settings
        model = unwrap(runner.model)
        given = build_transfer_ticket(model, self.prunable, **s.transfer)
        source = f"transferred ticket ({s.transfer['mode']} from {s.transfer['source']})"
        check_fits(given.masks, dict(model.named_parameters()), self.prunable, source)
        meta = ticket_meta(given.masks, self.exp.data['network_params'],
                           **round_meta(self.exp, 0))
        save_ticket(path, given.masks, meta, values=given.values)
        coverage = given.meta.get('coverage') if given.meta else None
        runner.logger.info(
            f'[lottery] training the {source}: '
            f'{100 * given.masks.prunable_sparsity():.2f}% of the prunable weights pruned' +
            (f'; the source covers {100 * coverage:.1f}% of them.' if coverage is not None
             else '.'))


class TransferRefused(ValueError):
    """``lottery.transfer`` could not build its ticket (raised before any training)."""


def _to_py(v):
    if hasattr(v, 'item') and not isinstance(v, (list, dict, str)):
        try:
            return v.item()
        except (ValueError, AttributeError, RuntimeError):
            return v.tolist() if hasattr(v, 'tolist') else v
    return v
