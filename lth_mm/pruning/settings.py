# Copyright (c) lth_mm authors. All rights reserved.
"""The ``lottery = dict(...)`` config block: defaults, types and validation (pure Python).

Every key is documented in ``configs/_base_/lottery.py`` and ``docs/lottery_config.md``.
Validation happens before any training starts and raises one :class:`LotteryConfigError`
that names the key, the problem and the fix.
"""
import difflib
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

from .registry import CRITERIA, criterion_name
from .schedule import SCHEDULES, ScheduleError, keep_ratios
from .scope import PRESETS, ScopeError, resolve_groups

CONTROLS = ('random_ticket', 'random_reinit')
REWIND_MODES = ('restart', 'continue', 'lr')
REWIND_WEIGHTS = ('raw', 'ema')
TRANSFER_MODES = ('imagenet', 'mask', 'task')
# Keys that were renamed: old name -> new name (a config using the old one gets an error
# naming the new one). `scope` clashed with mmengine's own use of the word (`default_scope`,
# registry `_scope_`); `cfg.lottery.scope` must read the pruning scope without surprises.
RENAMED_KEYS = {'scope': 'prune_scope'}
# Settings that only say where to find files; every other key shapes the experiment and
# must match on resume.
_LOCATION_KEYS = ()


class LotteryConfigError(ValueError):
    """An invalid ``lottery`` config block."""


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_path(v) -> bool:
    return isinstance(v, (str, os.PathLike))


def _list_of(check: Callable) -> Callable:
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _optional(check: Callable) -> Callable:
    return lambda v: v is None or check(v)


def _is_str(v) -> bool:
    return isinstance(v, str)


# The type of every key: (check, what the error message calls it). A command-line value
# that is not a number stays a string (`--cfg-options lottery.keep_ratio=abc`), so every
# key is checked here, before any value is used, with a message that names the key.
KEY_TYPES: Mapping[str, Tuple[Callable, str]] = {
    'rounds': (_is_int, 'an integer (e.g. 2)'),
    'keep_ratio': (_is_number, 'a number (e.g. 0.2)'),
    'schedule': (_is_str, 'a string (e.g. \'geometric\')'),
    'prune_rate': (_is_number, 'a number (e.g. 0.2)'),
    'sparsities': (_optional(_list_of(_is_number)), 'None or a list of numbers (e.g. [0.5, 0.8])'),
    'prune_scope': (_is_str, 'a string (e.g. \'paper\')'),
    'groups': (_optional(_list_of(_is_str)), 'None or a list of strings'),
    'include': (_optional(_list_of(_is_str)), 'None or a list of strings (regexes)'),
    'exclude': (_optional(_list_of(_is_str)), 'None or a list of strings (regexes)'),
    'criterion': (lambda v: isinstance(v, (str, Mapping)),
                  'a string or dict(type=NAME, ...) (e.g. \'global_magnitude\')'),
    'min_density': (_optional(_is_number), 'None or a number (e.g. 0.01)'),
    'controls': (_list_of(_is_str), 'a list of strings (e.g. [\'random_ticket\'])'),
    'rewind_iter': (_optional(_is_int), 'None or an integer (e.g. 600)'),
    'rewind_epochs': (_optional(_is_number), 'None or a number (e.g. 1)'),
    'rewind_from': (_optional(_is_path), 'None or a checkpoint path'),
    'rewind_mode': (_is_str, 'a string (e.g. \'restart\')'),
    'rewind_weights': (_is_str, 'a string (e.g. \'raw\')'),
    'ticket': (_optional(_is_path), 'None or a ticket file path'),
    'transfer': (_optional(lambda v: isinstance(v, Mapping)),
                 "None or dict(mode=..., source=PATH)"),
    'seed': (_is_int, 'an integer (e.g. 0)'),
}


@dataclass
class LotterySettings:
    """Validated lottery settings.

    Args:
        rounds: number of pruning rounds R; round 0 trains dense. A given ``ticket`` /
            ``transfer`` is not pruned: it trains once whatever ``rounds`` says (a base
            config sets ``rounds=2``); repeats of one ticket are seeds (``tools/seeds.py``),
            and ``--cfg-options lottery.rounds=N`` (N > 1) with a given ticket is refused.
        keep_ratio: final fraction of prunable weights kept (geometric schedule).
        schedule: ``'geometric'`` | ``'fixed_rate'`` | ``'list'``.
        prune_rate: fraction of remaining weights pruned per round (``fixed_rate``).
        sparsities: explicit prunable sparsity per pruned round (``list``).
        prune_scope: ``'paper'`` | ``'backbone'`` | ``'all'`` (was ``scope``).
        groups: module groups to restrict the scope to (VOC ablation presets).
        include: regexes a prunable name must match (any).
        exclude: regexes that drop a name.
        criterion: a registered criterion (:data:`~lth_mm.pruning.registry.CRITERIA`):
            ``'global_magnitude'`` | ``'layerwise_magnitude'`` | ``'lamp'`` | ``'random'``,
            or ``dict(type=NAME, **options)``.
        min_density: per-tensor density floor of every pruning (None = off, the paper):
            each prunable tensor keeps at least ``ceil(min_density * numel)`` weights, its
            largest, taken from the same total budget; at most the final keep ratio.
        controls: extra control rounds after the last round, from the final ticket:
            ``'random_ticket'`` (same per-layer counts, random positions) and
            ``'random_reinit'`` (same mask, weights re-initialised at random).
        rewind_iter: rewind point in iterations of round 0 (0 = initialisation).
        rewind_epochs: rewind point in passes over the training images (dataset wrappers
            such as ``RepeatDataset`` are unwrapped; iterations per epoch = images /
            (world size x batch size), whatever the sampler). Exclusive with
            ``rewind_iter``: a config that sets one where its base sets the other sets
            the other to None. On the command line the key the user types wins: with
            ``--cfg-options lottery.rewind_iter=600`` the config's ``rewind_epochs`` becomes
            None, and a log line says so
            (:func:`lth_mm.engine.runner.preflight.typed_lottery_keys_win`).
        rewind_from: take the rewind state from this checkpoint instead of round 0; the
            rewind iteration is the checkpoint's ``meta.iter``.
        rewind_weights: ``'raw'`` (the trained weights) or ``'ema'`` (the ``EMAHook``
            average) as the rewind state, for the in-run snapshot and ``rewind_from``.
        rewind_mode: ``'restart'`` (the paper: rewind weights, retrain the full schedule),
            ``'continue'`` (open_lth: rewind weights, continue the schedule from the rewind
            point) or ``'lr'`` (Renda et al.: keep final weights, rewind the LR schedule).
        ticket: train this ticket file's mask (from the rewind state / initialisation).
        transfer: build the ticket by transfer at the start of the run:
            ``dict(mode='imagenet'|'mask'|'task', source=PATH, keep_ratio=None,
            threshold='model'|'backbone')`` (see :mod:`lth_mm.transfer`); trained like
            ``ticket``.
        seed: seed of the random controls and the random criterion.
    """
    rounds: int = 2
    keep_ratio: float = 0.2
    schedule: str = 'geometric'
    prune_rate: float = 0.2
    sparsities: Optional[List[float]] = None
    prune_scope: str = 'paper'
    groups: Optional[List[str]] = None
    include: Optional[List[str]] = None
    exclude: Optional[List[str]] = None
    criterion: Any = 'global_magnitude'
    min_density: Optional[float] = None
    controls: List[str] = field(default_factory=list)
    rewind_iter: Optional[int] = None
    rewind_epochs: Optional[float] = None
    rewind_from: Optional[str] = None
    rewind_mode: str = 'restart'
    rewind_weights: str = 'raw'
    ticket: Optional[str] = None
    transfer: Optional[dict] = None
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
        renamed = [k for k in cfg if k in RENAMED_KEYS]
        if renamed:
            raise LotteryConfigError(
                'Renamed lottery key(s): ' + ', '.join(
                    f'{k!r} is now {RENAMED_KEYS[k]!r}' for k in renamed) +
                '. Rename them in your config (e.g. lottery=dict(prune_scope=\'paper\')) or '
                'on the command line (--cfg-options lottery.prune_scope=paper).')
        unknown = [k for k in cfg if k not in valid]
        if unknown:
            msgs = []
            for k in unknown:
                close = difflib.get_close_matches(k, valid, n=1)
                msgs.append(f'{k!r}' + (f' (did you mean {close[0]!r}?)' if close else ''))
            raise LotteryConfigError(
                f'Unknown lottery key(s): {", ".join(msgs)}. Valid keys: {", ".join(valid)}. '
                'See configs/_base_/lottery.py for what each key does.')
        for k in ('transfer', 'criterion'):  # a ConfigDict: keep plain types only
            if isinstance(cfg.get(k), Mapping):
                cfg[k] = dict(cfg[k])
        for k in ('sparsities', 'groups', 'include', 'exclude', 'controls'):
            if isinstance(cfg.get(k), (tuple, str)):
                cfg[k] = [cfg[k]] if isinstance(cfg[k], str) else list(cfg[k])
        settings = cls(**cfg)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check every value; raise :class:`LotteryConfigError` on the first problem."""
        err = LotteryConfigError
        for key, (check, expected) in KEY_TYPES.items():
            value = getattr(self, key)
            if not check(value):
                raise err(f'lottery.{key} must be {expected}, got {value!r} (type '
                          f'{type(value).__name__}). Fix it in the config\'s lottery=dict(...) '
                          f'or on the command line (--cfg-options lottery.{key}=VALUE).')
        if not isinstance(self.rounds, int) or isinstance(self.rounds, bool) or self.rounds < 1:
            raise err(f'lottery.rounds must be an integer >= 1, got {self.rounds!r}.')
        if self.prune_scope not in PRESETS:
            raise err(f'lottery.prune_scope must be one of {PRESETS}, '
                      f'got {self.prune_scope!r}.')
        if self.rewind_weights not in REWIND_WEIGHTS:
            raise err(f'lottery.rewind_weights must be one of {REWIND_WEIGHTS}, '
                      f'got {self.rewind_weights!r}.')
        try:
            CRITERIA.split(self.criterion)
        except (KeyError, TypeError) as e:
            raise err(f'lottery.criterion: {e.args[0]} (a name or dict(type=NAME, ...); '
                      f'registered: {sorted(CRITERIA)}).') from None
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
            raise err(
                f'lottery.rewind_iter={self.rewind_iter} and lottery.rewind_epochs='
                f'{self.rewind_epochs} are exclusive: set one. A base config may set the '
                'other (configs/_base_/lottery_det.py sets rewind_epochs=1): set it to None '
                'next to yours, e.g. lottery=dict(rewind_iter=600, rewind_epochs=None) or '
                'dict(rewind_epochs=1, rewind_iter=None). On the command line the key you '
                'type wins over the config\'s (--cfg-options lottery.rewind_iter=600).')
        if self.rewind_iter is not None and (not isinstance(self.rewind_iter, int)
                                             or self.rewind_iter < 0):
            raise err(f'lottery.rewind_iter must be an integer >= 0, got {self.rewind_iter!r}.')
        if self.rewind_epochs is not None and not float(self.rewind_epochs) >= 0:
            raise err(f'lottery.rewind_epochs must be >= 0, got {self.rewind_epochs!r}.')
        self._validate_transfer()
        if self.ticket is not None and self.transfer is not None:
            raise err('lottery.ticket and lottery.transfer are exclusive: a transfer builds '
                      'the ticket; give one of them.')
        if self.given_ticket and self.rewind_from is None and (
                self.rewind_iter or self.rewind_epochs):
            raise err('A given ticket (lottery.ticket / lottery.transfer) starts from its '
                      'initial state, or from lottery.rewind_from: there is no round 0 to '
                      'rewind to. Set lottery.rewind_iter=None and rewind_epochs=None (a '
                      'base config may set one, e.g. configs/_base_/lottery_det.py '
                      'rewind_epochs=1), or give rewind_from=CHECKPOINT.')
        if self.given_ticket and self.controls:
            raise err('lottery.controls need the magnitude ticket of this run; they cannot be '
                      'combined with lottery.ticket (run the controls in the run that found '
                      'the ticket).')
        if self.controls and self.rewind_mode == 'lr':
            raise err("lottery.controls compare tickets rewound to the same weights; they need "
                      "rewind_mode 'restart' or 'continue', not 'lr'.")
        if not self.given_ticket and self.controls and self.rounds < 2:
            raise err('lottery.controls run after a pruned round: set lottery.rounds >= 2.')
        try:
            self.keep_ratios()
        except ScheduleError as e:
            raise err(str(e)) from e
        self._validate_min_density()

    def _validate_min_density(self) -> None:
        md = self.min_density
        if md is None:
            return
        err = LotteryConfigError
        if isinstance(md, bool) or not isinstance(md, (int, float)) or not 0 < md <= 1:
            raise err(f'lottery.min_density must be None or in (0, 1], got {md!r}.')
        if self.given_ticket:
            raise err('lottery.min_density acts when a round prunes; a given ticket '
                      '(lottery.ticket / lottery.transfer) is not pruned. Drop min_density.')
        if getattr(CRITERIA.get(self.criterion_name), 'structured', False):
            raise err('lottery.min_density floors weights per tensor; a channel criterion '
                      'keeps at least one channel a group. Drop min_density.')
        keep = min(k for k in self.keep_ratios() if k is not None)
        if md > keep:
            raise err(f'lottery.min_density={md} is above the final keep ratio {keep:.6g}: '
                      'no tensor could keep that density. Use a floor below the keep ratio '
                      '(e.g. 0.01).')

    @property
    def criterion_name(self) -> str:
        """The registry name of :attr:`criterion` (a name or a ``type=`` dict)."""
        return criterion_name(self.criterion)

    def _validate_transfer(self) -> None:
        if self.transfer is None:
            return
        t = self.transfer
        valid = ('mode', 'source', 'keep_ratio', 'threshold', 'allow_partial')
        if not isinstance(t, Mapping) or 'mode' not in t or 'source' not in t:
            raise LotteryConfigError(
                'lottery.transfer must be a dict with at least `mode` and `source`, e.g. '
                "dict(mode='imagenet', source='imagenet_ticket.pth'); got " + repr(t) + '.')
        unknown = [k for k in t if k not in valid]
        if unknown:
            raise LotteryConfigError(f'lottery.transfer: unknown key(s) {unknown}; valid keys: '
                                     f'{list(valid)}.')
        if t['mode'] not in TRANSFER_MODES:
            raise LotteryConfigError(f'lottery.transfer.mode must be one of {TRANSFER_MODES}, '
                                     f"got {t['mode']!r}.")
        k = t.get('keep_ratio')
        if k is not None and not (isinstance(k, (int, float)) and 0 < k <= 1):
            raise LotteryConfigError(
                f'lottery.transfer.keep_ratio must be in (0, 1], got {k!r}.')
        if not isinstance(t.get('allow_partial', False), bool):  # see lth_mm.transfer
            raise LotteryConfigError('lottery.transfer.allow_partial must be True or False, '
                                     f"got {t['allow_partial']!r}.")

    # ------------------------------------------------------------------ derived values
    @property
    def given_ticket(self) -> bool:
        """Whether the mask is given (a ticket file or a transfer), not found by pruning."""
        return self.ticket is not None or self.transfer is not None

    def keep_ratios(self) -> List[float]:
        """Cumulative keep ratio of each main round (round 0 = 1.0 unless a ticket is given).

        A given ticket trains once (``rounds`` counts pruning rounds and does not apply;
        repeats of one ticket are seeds: ``tools/seeds.py``). Its ratio is unknown until
        the ticket is read; the plan holds None and the summary reports the ticket's real
        keep ratio.
        """
        if self.given_ticket:
            return [None]
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
            if self.given_ticket:
                kind = 'given_ticket'
            else:
                kind = 'dense' if r == 0 else 'ticket'
            plan.append(dict(round=r, kind=kind, keep_ratio=k))
        for c in self.controls:
            plan.append(dict(round=len(plan), kind=c, keep_ratio=ratios[-1]))
        return plan

    def to_dict(self) -> dict:
        """The settings as a plain dict (what the hook stores in checkpoints)."""
        return asdict(self)

    def differences(self, other: Mapping[str, Any]) -> List[str]:
        """Keys whose value differs from ``other`` (a :meth:`to_dict` of another run).

        Args:
            other: settings stored by an earlier run (older checkpoints may use renamed keys).

        Returns:
            list[str]: the differing keys, sorted.
        """
        other = {RENAMED_KEYS.get(k, k): v for k, v in dict(other).items()}
        mine = self.to_dict()
        return sorted(k for k in set(mine) | set(other)
                      if k not in _LOCATION_KEYS and _norm(mine.get(k)) != _norm(other.get(k)))

    @property
    def scope_dict(self) -> dict:
        """The keyword arguments of :func:`lth_mm.pruning.select_prunable`."""
        return dict(scope=self.prune_scope, groups=self.groups, include=self.include,
                    exclude=self.exclude)


def _norm(v):
    """Compare lists and tuples, ints and floats alike (configs and JSON differ there)."""
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def describe_keys() -> Sequence[str]:
    """Names of all lottery keys (for docs and error messages)."""
    return [f.name for f in fields(LotterySettings)]
