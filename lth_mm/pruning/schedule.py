# Copyright (c) lth_mm authors. All rights reserved.
"""Sparsity schedules over pruning rounds (pure Python).

Round 0 always trains dense (keep ratio 1). The keep ratio of round ``r`` is *cumulative*:
the fraction of all prunable weights that survive in round ``r``.
"""
from typing import List, Optional, Sequence

SCHEDULES = ('geometric', 'fixed_rate', 'list')


class ScheduleError(ValueError):
    """Raised for an invalid sparsity schedule."""


def keep_ratios(rounds: int,
                schedule: str = 'geometric',
                keep_ratio: float = 0.2,
                prune_rate: float = 0.2,
                sparsities: Optional[Sequence[float]] = None) -> List[float]:
    """Cumulative keep ratio of every round.

    Args:
        rounds: number of rounds R (round 0 is dense).
        schedule: ``'geometric'`` (the paper: ``keep ** (r / (R - 1))``, so the last round
            reaches ``keep_ratio``), ``'fixed_rate'`` (open_lth: prune ``prune_rate`` of what
            remains each round, ``(1 - prune_rate) ** r``) or ``'list'`` (explicit
            ``sparsities``).
        keep_ratio: final keep ratio for ``'geometric'``, in (0, 1].
        prune_rate: fraction of the remaining weights pruned per round, in [0, 1).
        sparsities: for ``'list'``: sparsity of the prunable weights for rounds 1..R-1
            (length R-1), or for rounds 0..R-1 with a leading 0 (length R).

    Returns:
        list[float]: R keep ratios, the first 1.0, non-increasing.
    """
    if not isinstance(rounds, int) or rounds < 1:
        raise ScheduleError(f'lottery.rounds must be an integer >= 1, got {rounds!r}.')
    if schedule not in SCHEDULES:
        raise ScheduleError(f'lottery.schedule must be one of {SCHEDULES}, got {schedule!r}.')
    if schedule == 'geometric':
        if not 0.0 < float(keep_ratio) <= 1.0:
            raise ScheduleError(
                f'lottery.keep_ratio must be in (0, 1], got {keep_ratio!r} '
                '(keep_ratio is the fraction of prunable weights kept; 0.2 = 80% sparsity).')
        if rounds < 2 and keep_ratio < 1.0:
            raise ScheduleError(
                f'lottery.keep_ratio={keep_ratio} needs lottery.rounds >= 2 (round 0 trains '
                f'dense and round 1 trains the first ticket), got rounds={rounds}. '
                'Set lottery.rounds=2 for one-shot pruning.')
        if rounds == 1:
            return [1.0]
        return [float(keep_ratio) ** (r / (rounds - 1)) for r in range(rounds)]
    if schedule == 'fixed_rate':
        if not 0.0 <= float(prune_rate) < 1.0:
            raise ScheduleError(f'lottery.prune_rate must be in [0, 1), got {prune_rate!r}.')
        if rounds < 2 and prune_rate > 0:
            raise ScheduleError('lottery.schedule=fixed_rate prunes between rounds: set '
                                f'lottery.rounds >= 2 (got {rounds}).')
        return [(1.0 - float(prune_rate)) ** r for r in range(rounds)]
    # explicit list
    if sparsities is None:
        raise ScheduleError("lottery.schedule='list' needs lottery.sparsities, e.g. [0.5, 0.8].")
    sp = [float(s) for s in sparsities]
    if len(sp) == rounds and sp and sp[0] == 0.0:
        sp = sp[1:]
    if len(sp) != rounds - 1:
        raise ScheduleError(
            f'lottery.sparsities has {len(sparsities)} entries; with rounds={rounds} it needs '
            f'{rounds - 1} (one per pruned round) or {rounds} starting with 0.')
    prev = 0.0
    for s in sp:
        if not 0.0 <= s < 1.0:
            raise ScheduleError(f'lottery.sparsities entries must be in [0, 1), got {s}.')
        if s < prev:
            raise ScheduleError(
                f'lottery.sparsities must be non-decreasing (pruned weights stay pruned), '
                f'got {list(sparsities)}.')
        prev = s
    return [1.0] + [1.0 - s for s in sp]
