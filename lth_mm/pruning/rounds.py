# Copyright (c) lth_mm authors. All rights reserved.
"""Which masks and which weights a lottery round starts from (pure PyTorch, no mmengine).

A level of iterative magnitude pruning is "prune, then train" (open_lth's
``lottery/runner.py``). This module owns the first half as one pure decision,
:func:`round_start`, so the hook only carries it out. Round kinds:

* ``dense``: round 0; no mask, the model's own initialisation (or ``load_from``).
* ``ticket``: prune the previous round's final weights (cumulative keep ratio), then start
  from the rewind state (``restart``/``continue``) or keep the final weights (``lr``).
* ``given_ticket``: a ticket file's (or a transferred ticket's) mask; every round of it
  starts from the same state: the rewind state when one is given, else the initial state
  the run began with, overwritten by the values the ticket carries.
* ``random_ticket``: the final ticket's per-tensor counts at random positions, from the
  rewind state (Frankle & Carbin's random-pruning control).
* ``random_reinit``: the final ticket's mask on a fresh random initialisation of the model
  (Frankle & Carbin's random-reinitialisation control; see :data:`FRESH_INIT`).
"""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Union

import torch

from .criteria import compute_masks, random_with_counts
from .structured import is_structured, random_channels

DENSE = 'dense'
TICKET = 'ticket'
GIVEN_TICKET = 'given_ticket'
RANDOM_TICKET = 'random_ticket'
RANDOM_REINIT = 'random_reinit'
KINDS = (DENSE, TICKET, GIVEN_TICKET, RANDOM_TICKET, RANDOM_REINIT)

# Where a round's starting weights come from.
KEEP = 'keep'  # the live weights as they are (round 0; 'lr' rewinding)
REWIND = 'rewind'  # the rewind state (late-reset snapshot or rewind_from checkpoint)
INITIAL = 'initial'  # the state the run started from, before any training
FRESH_INIT = 'fresh_init'  # a new random initialisation (no pretrained weights)

Masks = Dict[str, torch.Tensor]


@dataclass
class RoundStart:
    """The decision for one round.

    Args:
        masks: boolean masks by parameter name, or None for dense training.
        weights: where the starting weights come from: :data:`KEEP`, :data:`REWIND`,
            :data:`INITIAL` or :data:`FRESH_INIT`.
        start_iter: the iteration the round's schedule starts at (0, or the rewind point
            for ``rewind_mode='continue'``).
    """
    masks: Optional[Masks]
    weights: str
    start_iter: int = 0


def round_start(kind: str,
                *,
                weights: Callable[[], Masks],
                current: Optional[Masks],
                keep_ratio: float,
                criterion: Union[str, Mapping[str, Any]],
                generator: torch.Generator,
                rewind_mode: str = 'restart',
                rewind_iter: int = 0,
                ticket: Optional[Masks] = None,
                given: Optional[Masks] = None,
                has_rewind_state: bool = False,
                min_density: Optional[float] = None,
                structure: Optional[Callable[[], Any]] = None) -> RoundStart:
    """Decide the masks and the starting weights of a round.

    Args:
        kind: one of :data:`KINDS`.
        weights: returns the prunable weights by name (the previous round's final
            weights); called only when a mask is computed from them.
        current: the masks in force (None before the first pruning).
        keep_ratio: cumulative fraction of prunable weights this round keeps.
        criterion: a registered criterion name or ``dict(type=NAME, **options)``
            (:data:`lth_mm.pruning.CRITERIA`).
        generator: random generator of the random criterion and controls.
        rewind_mode: ``'restart'``, ``'continue'`` or ``'lr'``.
        rewind_iter: the rewind point (iterations of round 0).
        ticket: the last magnitude ticket's masks (for the controls).
        given: a given ticket's masks (for ``given_ticket``).
        has_rewind_state: whether a rewind state exists (``rewind_from`` for a given
            ticket).
        min_density: per-tensor density floor passed to the criterion of a ``ticket``
            round (``lottery.min_density``). The controls need none: ``random_ticket``
            copies the ticket's per-tensor counts and ``random_reinit`` its mask, so the
            ticket's floor holds for them too; given tickets are not pruned.
        structure: returns the model's channel structure
            (:class:`~lth_mm.pruning.channels.ChannelStructure`); called only for a
            structured criterion (its ticket rounds and its random-channel control).

    Returns:
        RoundStart: the masks, where the weights come from and the start iteration.

    Raises:
        ValueError: an unknown kind or a missing input (a control without a ticket).
    """
    if kind == DENSE:
        return RoundStart(masks=None, weights=KEEP)
    if kind == GIVEN_TICKET:
        if given is None:
            raise ValueError('given_ticket round without a ticket')
        # rewind_from with 'continue': the schedule goes on from the checkpoint's iteration
        return RoundStart(masks=given, weights=REWIND if has_rewind_state else INITIAL,
                          start_iter=rewind_iter if rewind_mode == 'continue' else 0)
    if kind == TICKET:
        w = weights()
        alive = current if current is not None else {
            n: torch.ones_like(t, dtype=torch.bool) for n, t in w.items()}
        masks = compute_masks(criterion, w, alive, keep_ratio, generator,
                              min_density=min_density,
                              structure=structure() if is_structured(criterion) else None)
        if rewind_mode == 'lr':
            return RoundStart(masks=masks, weights=KEEP)
        return RoundStart(masks=masks, weights=REWIND,
                          start_iter=rewind_iter if rewind_mode == 'continue' else 0)
    if kind in (RANDOM_TICKET, RANDOM_REINIT):
        if ticket is None:
            raise ValueError(f'{kind} control round without a magnitude ticket')
        start = rewind_iter if rewind_mode == 'continue' else 0
        if kind == RANDOM_TICKET:
            # A structured ticket's control keeps as many channels per group, at random.
            masks = random_channels(structure(), ticket, generator) if is_structured(
                criterion) else random_with_counts(ticket, generator)
            return RoundStart(masks=masks, weights=REWIND, start_iter=start)
        return RoundStart(masks=ticket, weights=FRESH_INIT, start_iter=start)
    raise ValueError(f'unknown round kind {kind!r}; valid kinds: {KINDS}')
