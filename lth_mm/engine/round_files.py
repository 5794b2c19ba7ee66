# Copyright (c) lth_mm authors. All rights reserved.
"""The files a round starts from: ``round_{r}/ticket.pth`` and ``round_{r}/start.pth``.

A level of iterative magnitude pruning is "prune, then train" (open_lth). The pruning half
is :func:`lth_mm.pruning.round_start` (pure); this module reads its inputs from the
experiment's files (the previous round's ticket and final checkpoint, the rewind
snapshot, the last magnitude ticket) and writes its outputs as files, so that the round's
own mmengine Runner starts from them through ``load_from`` / ``resume`` and any round can
be rerun by hand with ``tools/train.py``:

* ``ticket.pth``: the round's masks and metadata (:mod:`lth_mm.pruning.ticket`);
* ``start.pth``: the start weights with the masks applied. For ``rewind_mode='continue'``
  it is a checkpoint the Runner *resumes* from: ``meta.epoch``/``meta.iter`` of the
  rewind point, the parameter schedulers' states there, an empty message hub and the
  optimizer's param groups without its state (each round has a fresh optimizer, but its
  learning rate is the schedule's at the rewind point: schedulers only scale the lr the
  optimizer holds).

Rank 0 calls :func:`write_round_files`; every rank reads the files after a barrier.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch

from .. import paths
from ..fileio import atomic_torch_save
from ..pruning import MaskSet, collapsed_tensors, load_ticket, save_ticket, ticket_meta
from ..pruning import rounds as R
from .checkpoint_io import read_checkpoint, read_weights
from .experiment import Experiment
from .utils import fresh_init_state

EMPTY_MESSAGE_HUB = dict(log_scalars={}, runtime_info={}, resumed_keys={})


@dataclass
class RoundStartSpec:
    """How round r's Runner starts (decided before it is built).

    Args:
        load_from: the checkpoint its Runner loads or resumes from (None: the model's own
            initialisation).
        resume: resume from ``load_from`` (``rewind_mode='continue'``) instead of loading
            the weights only.
    """
    load_from: Optional[str]
    resume: bool


def start_spec(exp: Experiment, r: int) -> RoundStartSpec:
    """Where round ``r`` starts, from the plan alone (no model needed).

    Args:
        exp: the experiment.
        r: the round.

    Returns:
        RoundStartSpec
    """
    s = exp.settings

    def continues() -> bool:
        if s.rewind_mode != 'continue':
            return False
        k = exp.rewind_iter
        if k is None and s.rewind_from is not None:  # round 0, before its Runner resolved it
            k = (read_checkpoint(s.rewind_from, 'lottery.rewind_from').get('meta') or
                 {}).get('iter')
        return int(k or 0) > 0

    if r == 0:
        if exp.plan[0]['kind'] == R.GIVEN_TICKET and s.rewind_from is not None:
            return RoundStartSpec(paths.start_checkpoint(exp.work_dir, 0), continues())
        return RoundStartSpec(exp.load_from, False)
    return RoundStartSpec(paths.start_checkpoint(exp.work_dir, r), continues())


def round_files_exist(exp: Experiment, r: int) -> bool:
    """Whether round ``r``'s ticket (and start checkpoint, where it has one) are written."""
    spec = start_spec(exp, r)
    needs_start = spec.load_from == paths.start_checkpoint(exp.work_dir, r)
    return osp.isfile(paths.ticket(exp.work_dir, r)) and (
        not needs_start or osp.isfile(spec.load_from))


def write_round_files(exp: Experiment, r: int, model: torch.nn.Module,
                      prunable_names: List[str], model_cfg: dict,
                      given=None, structure=None) -> dict:
    """Decide round ``r``'s masks and start weights and write them (rank 0 only).

    Args:
        exp: the experiment (``rewind_iter`` resolved).
        r: the round.
        model: the round's model (unwrapped; names and shapes are read, not weights).
        prunable_names: the prunable weights (the scope).
        model_cfg: the config's ``model`` (for the random re-initialisation control).
        given: round 0's given ticket (:class:`~lth_mm.pruning.Ticket`), if any.
        structure: the model's channel structure for a structured criterion's ticket and
            random-control rounds (built by the caller on every rank: its probe forward
            may all-reduce), else None.

    Returns:
        dict: the round's ticket metadata (sparsities, where the weights came from).
    """
    s, work_dir = exp.settings, exp.work_dir
    entry = exp.plan[r]
    template = {k: v for k, v in model.state_dict().items()}
    final: Dict[str, torch.Tensor] = {}

    def final_weights() -> Dict[str, torch.Tensor]:
        if not final:
            final.update(read_weights(paths.final_checkpoint(work_dir, r - 1), template,
                                      'raw', what=f'round {r - 1} final checkpoint')[0])
        return final

    previous = load_ticket(paths.ticket(work_dir, r - 1)).masks.as_bool() if r else None
    t = exp.last_ticket_round(r)
    ticket = load_ticket(paths.ticket(work_dir, t)).masks.as_bool() if t is not None else None
    if given is None and entry['kind'] == R.GIVEN_TICKET and r > 0:
        given = load_ticket(paths.ticket(work_dir, 0))
    rewind_path = s.rewind_from or paths.snapshot(work_dir)
    decision = R.round_start(
        entry['kind'],
        weights=lambda: {n: final_weights()[n] for n in prunable_names},
        current=previous, keep_ratio=entry['keep_ratio'], criterion=s.criterion,
        generator=torch.Generator().manual_seed(int(s.seed) + 1000 * r),
        rewind_mode=s.rewind_mode, rewind_iter=int(exp.rewind_iter or 0), ticket=ticket,
        given=None if given is None else given.masks.as_bool(),
        has_rewind_state=osp.isfile(rewind_path), min_density=s.min_density,
        structure=lambda: structure)
    masks = MaskSet(decision.masks if decision.masks is not None else {
        n: torch.ones(template[n].shape, dtype=torch.bool) for n in prunable_names})
    meta = ticket_meta(masks, exp.data['network_params'], **round_meta(exp, r))
    meta['start_weights'] = decision.weights
    # Global magnitude can empty whole tensors (layer collapse): never silently.
    meta['collapsed'] = [dict(name=n, density=d, numel=k) for n, d, k in
                         collapsed_tensors(masks.as_bool())]
    save_ticket(paths.ticket(work_dir, r), masks, meta,
                values=given.values if (given is not None and r == 0) else None)
    spec = start_spec(exp, r)
    if spec.load_from != paths.start_checkpoint(work_dir, r):
        return meta
    if decision.weights == R.KEEP:
        state = dict(final_weights())
    elif decision.weights == R.FRESH_INIT:
        state = fresh_init_state(model_cfg, seed=int(s.seed) + 7919 * (r + 1))
    elif decision.weights == R.REWIND:
        state = read_weights(rewind_path, template, s.rewind_weights,
                             what='lottery.rewind_from' if s.rewind_from else
                             'the rewind snapshot')[0]
    else:  # INITIAL happens in round 0 only, which has no start file without rewind_from
        raise RuntimeError(f'round {r}: no start file for weights {decision.weights!r}')
    bool_masks = masks.as_bool()
    state = {k: (v * bool_masks[k].to(v.dtype) if k in bool_masks else v).contiguous()
             for k, v in state.items()}
    checkpoint = dict(state_dict=state, meta=dict(lth_mm_start=dict(
        round=r, kind=entry['kind'], weights=decision.weights)))
    if spec.resume:
        checkpoint.update(_resume_fields(rewind_path, decision.start_iter))
    atomic_torch_save(checkpoint, paths.start_checkpoint(work_dir, r))
    return meta


def _resume_fields(path: str, start_iter: int) -> dict:
    """What ``Runner.resume`` needs to continue the schedule at the rewind point."""
    ckpt = read_checkpoint(path)
    meta = dict(ckpt.get('meta') or {})
    fields = dict(meta=dict(epoch=int(meta.get('epoch', 0)), iter=int(start_iter)),
                  message_hub=EMPTY_MESSAGE_HUB)
    if meta.get('dataset_meta') is not None:
        fields['meta']['dataset_meta'] = meta['dataset_meta']
    if ckpt.get('param_schedulers') is not None:
        fields['param_schedulers'] = ckpt['param_schedulers']
    if ckpt.get('optimizer') is not None:
        fields['optimizer'] = _without_state(ckpt['optimizer'])
    return fields


def _without_state(optimizer_state):
    """An optimizer (wrapper, or wrapper dict) state with its per-parameter state dropped."""
    if isinstance(optimizer_state, dict) and 'param_groups' in optimizer_state:
        return dict(optimizer_state, state={})
    if isinstance(optimizer_state, dict):  # OptimWrapperDict: one entry per wrapper
        return {k: _without_state(v) for k, v in optimizer_state.items()}
    return optimizer_state


def round_meta(exp: Experiment, r: int) -> dict:
    """The round's metadata for its ticket file."""
    s = exp.settings
    entry = exp.plan[r]
    return dict(round=r, kind=entry['kind'], planned_keep_ratio=entry['keep_ratio'],
                scope=s.scope_dict, criterion=s.criterion, seed=s.seed, transfer=s.transfer,
                rewind=dict(iter=exp.rewind_iter, mode=s.rewind_mode, weights=s.rewind_weights,
                            snapshot=None if s.rewind_from else paths.snapshot(exp.work_dir),
                            rewind_from=s.rewind_from),
                given_ticket=s.ticket)
