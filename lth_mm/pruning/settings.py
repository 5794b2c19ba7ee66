# Copyright (c) lth_mm authors. All rights reserved.
"""The ``lottery = dict(...)`` config block: defaults, types and validation (pure Python).

Every key is documented in ``configs/_base_/lottery.py`` and ``docs/lottery_config.md``.
Validation happens before any training starts and raises one :class:`LotteryConfigError`
that names the key, the problem and the fix.
"""
import difflib
from dataclasses import asdict, dataclass, field, fields
from typing import Any, List, Mapping, Optional, Sequence

from .criteria import CRITERIA
from .schedule import SCHEDULES, ScheduleError, keep_ratios
from .scope import PRESETS, ScopeError, resolve_groups

CONTROLS = ('random_ticket', 'random_reinit')
REWIND_MODES = ('restart', 'continue', 'lr')


class LotteryConfigError(ValueError):
    """An invalid ``lottery`` config block."""


@dataclass
class LotterySettings:
    """Validated lottery settings.

    Args:
        rounds: number of pruning rounds R; round 0 trains dense.
        keep_ratio: final fraction of prunable weights kept (geometric schedule).
        schedule: ``'geometric'`` | ``'fixed_rate'`` | ``'list'``.
        prune_rate: fraction of remaining weights pruned per round (``fixed_rate``).
        sparsities: explicit prunable sparsity per pruned round (``list``).
        scope: ``'paper'`` | ``'backbone'`` | ``'all'``.
        groups: module groups to restrict the scope to (VOC ablation presets).
        include: regexes a prunable name must match (any).
        exclude: regexes that drop a name.
        criterion: ``'global_magnitude'`` | ``'layerwise_magnitude'`` | ``'random'``.
        controls: extra control rounds after the last round, from the final ticket:
            ``'random_ticket'`` (same per-layer counts, random positions) and
            ``'random_reinit'`` (same mask, weights re-initialised at random).
        rewind_iter: rewind point in iterations of round 0 (0 = initialisation).
        rewind_epochs: rewind point in epochs (converted with the train dataloader length,
            so it stays right when the batch size changes). Exclusive with ``rewind_iter``.
        rewind_from: take the rewind state from this checkpoint instead of round 0.
        rewind_mode: ``'restart'`` (the paper: rewind weights, retrain the full schedule),
            ``'continue'`` (open_lth: rewind weights, continue the schedule from the rewind
            point) or ``'lr'`` (Renda et al.: keep final weights, rewind the LR schedule).
        ticket: train this ticket file's mask (from the rewind state / initialisation).
        seed: seed of the random controls and the random criterion.
    """
    rounds: int = 2
    keep_ratio: float = 0.2
    schedule: str = 'geometric'
    prune_rate: float = 0.2
    sparsities: Optional[List[float]] = None
    scope: str = 'paper'
    groups: Optional[List[str]] = None
    include: Optional[List[str]] = None
    exclude: Optional[List[str]] = None
    criterion: str = 'global_magnitude'
    controls: List[str] = field(default_factory=list)
    rewind_iter: Optional[int] = None
    rewind_epochs: Optional[float] = None
    rewind_from: Optional[str] = None
    rewind_mode: str = 'restart'
    ticket: Optional[str] = None
    seed: int = 0

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, cfg: Optional[Mapping[str, Any]]) -> 'LotterySettings':
        """Build and validate settings from the config's ``lottery`` dict.

        Args:
            cfg: the ``lottery`` dict (None = all defaults).

        Returns:
            LotterySettings: validated settings.

        Raises:
            LotteryConfigError: unknown key (with a suggestion) or invalid value.
        """
        cfg = dict(cfg or {})
        cfg.pop('type', None)
        valid = [f.name for f in fields(cls)]
        unknown = [k for k in cfg if k not in valid]
        if unknown:
            msgs = []
            for k in unknown:
                close = difflib.get_close_matches(k, valid, n=1)
                msgs.append(f'{k!r}' + (f' (did you mean {close[0]!r}?)' if close else ''))
            raise LotteryConfigError(
                f'Unknown lottery key(s): {", ".join(msgs)}. Valid keys: {", ".join(valid)}. '
                'See configs/_base_/lottery.py for what each key does.')
        for k in ('sparsities', 'groups', 'include', 'exclude', 'controls'):
            if isinstance(cfg.get(k), (tuple, str)):
                cfg[k] = [cfg[k]] if isinstance(cfg[k], str) else list(cfg[k])
        settings = cls(**cfg)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check every value; raise :class:`LotteryConfigError` on the first problem."""
        err = LotteryConfigError
        if not isinstance(self.rounds, int) or isinstance(self.rounds, bool) or self.rounds < 1:
            raise err(f'lottery.rounds must be an integer >= 1, got {self.rounds!r}.')
        if self.scope not in PRESETS:
            raise err(f'lottery.scope must be one of {PRESETS}, got {self.scope!r}.')
        if self.criterion not in CRITERIA:
            raise err(f'lottery.criterion must be one of {CRITERIA}, got {self.criterion!r}.')
        if self.schedule not in SCHEDULES:
            raise err(f'lottery.schedule must be one of {SCHEDULES}, got {self.schedule!r}.')
        if self.rewind_mode not in REWIND_MODES:
            raise err(f'lottery.rewind_mode must be one of {REWIND_MODES}, '
                      f'got {self.rewind_mode!r}.')
        bad = [c for c in self.controls if c not in CONTROLS]
        if bad:
            raise err(f'lottery.controls: unknown control(s) {bad}; valid: {CONTROLS}.')
        try:
            resolve_groups(self.groups)
        except ScopeError as e:
            raise err(str(e)) from e
        if self.rewind_iter is not None and self.rewind_epochs is not None:
            raise err('lottery.rewind_iter and lottery.rewind_epochs are exclusive: set one '
                      '(rewind_epochs stays right when the batch size changes).')
        if self.rewind_iter is not None and (not isinstance(self.rewind_iter, int)
                                             or self.rewind_iter < 0):
            raise err(f'lottery.rewind_iter must be an integer >= 0, got {self.rewind_iter!r}.')
        if self.rewind_epochs is not None and not float(self.rewind_epochs) >= 0:
            raise err(f'lottery.rewind_epochs must be >= 0, got {self.rewind_epochs!r}.')
        if self.ticket is not None and self.controls:
            raise err('lottery.controls need the magnitude ticket of this run; they cannot be '
                      'combined with lottery.ticket (run the controls in the run that found '
                      'the ticket).')
        if self.controls and self.rewind_mode == 'lr':
            raise err("lottery.controls compare tickets rewound to the same weights; they need "
                      "rewind_mode 'restart' or 'continue', not 'lr'.")
        if self.ticket is None and self.controls and self.rounds < 2:
            raise err('lottery.controls run after a pruned round: set lottery.rounds >= 2.')
        try:
            self.keep_ratios()
        except ScheduleError as e:
            raise err(str(e)) from e

    # ------------------------------------------------------------------ derived values
    def keep_ratios(self) -> List[float]:
        """Cumulative keep ratio of each main round (round 0 = 1.0 unless a ticket is given)."""
        if self.ticket is not None:
            return [1.0] * self.rounds  # the ticket fixes the mask; rounds re-train it
        return keep_ratios(self.rounds, self.schedule, self.keep_ratio, self.prune_rate,
                           self.sparsities)

    def plan(self) -> List[dict]:
        """Every training run of the experiment, in order.

        Returns:
            list[dict]: ``{'round': r, 'kind': 'dense'|'ticket'|'given_ticket'|control,
            'keep_ratio': k}``; controls follow the last main round and reuse its keep
            ratio.
        """
        ratios = self.keep_ratios()
        plan = []
        for r, k in enumerate(ratios):
            if self.ticket is not None:
                kind = 'given_ticket'
            else:
                kind = 'dense' if r == 0 else 'ticket'
            plan.append(dict(round=r, kind=kind, keep_ratio=k))
        for c in self.controls:
            plan.append(dict(round=len(plan), kind=c, keep_ratio=ratios[-1]))
        return plan

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def scope_dict(self) -> dict:
        return dict(scope=self.scope, groups=self.groups, include=self.include,
                    exclude=self.exclude)


def describe_keys() -> Sequence[str]:
    """Names of all lottery keys (for docs and error messages)."""
    return [f.name for f in fields(LotterySettings)]
