# Copyright (c) lth_mm authors. All rights reserved.
"""Checks of a lottery config that need no model, data or file: they run before anything
is built or written (a refused run leaves no work_dir, log folder or config copy behind).

* :func:`check_lottery_block_name`: a misspelt ``lottery`` block (``lotery=dict(...)``,
  ``--cfg-options lotery.keep_ratio=0.5``) would run silently with the defaults;
* :func:`check_rewind_fits_schedule`: a rewind point beyond a round, as far as the config
  tells (the dataset's size is only known once round 0's Runner built it:
  :func:`lth_mm.engine.rewind.rewind_point_for_run` checks the rest);
* :func:`typed_lottery_keys_win`: the lottery keys typed on the command line win over
  exclusive ones of the config.
"""
import difflib
from typing import Any, List, Mapping, Optional

from ...pruning import LotteryConfigError, LotterySettings
from .setup import needs_snapshot

# How close (difflib ratio) a top-level key must be to `lottery` to be taken for a typo:
# 'lotery' 0.92, 'lottary' 0.86, 'lotary' 0.77, 'lotteries' 0.75; 'lottery_cfg' 0.78 would
# be taken too, 'battery' (0.71) and 'lotto' (0.67) not.
TYPO_CUTOFF = 0.75


def check_lottery_block_name(cfg: Mapping) -> None:
    """Refuse a top-level key that is a misspelt ``lottery`` (its settings would be ignored).

    Raising (not warning) because such a key is surely a typo: nothing reads it, and the
    run would train for days with the default settings, the warning long scrolled away.

    Args:
        cfg: the full config.

    Raises:
        LotteryConfigError: a key close to ``lottery`` (or not a dict ``lottery``).
    """
    close = [k for k in cfg if k != 'lottery' and difflib.get_close_matches(
        str(k).lower(), ['lottery'], n=1, cutoff=TYPO_CUTOFF)]
    if close:
        raise LotteryConfigError(
            f'The config has a top-level key {close[0]!r}, not `lottery`: a misspelt '
            '`lottery` block, whose settings would be ignored (the run would use the '
            f'lottery defaults). Rename {close[0]!r} to `lottery` (in the config: '
            'lottery=dict(...); on the command line: --cfg-options lottery.KEY=VALUE).')
    lottery = cfg.get('lottery')
    if lottery is not None and not isinstance(lottery, Mapping):
        raise LotteryConfigError(
            f'`lottery` must be a dict of lottery settings, got {lottery!r}: set its keys, '
            'e.g. lottery=dict(keep_ratio=0.2) or --cfg-options lottery.keep_ratio=0.2.')


def _type_name(t) -> str:
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def passes_per_loop_epoch(dataset_cfg) -> Optional[int]:
    """Passes over the training images in one epoch of the train loop, from the config.

    Args:
        dataset_cfg: ``train_dataloader.dataset``.

    Returns:
        int | None: 1 for a plain dataset (or a ``ConcatDataset`` of plain ones), ``times``
        per ``RepeatDataset``; None for other wrappers (``ClassBalancedDataset`` decides its
        length when built).
    """
    if not isinstance(dataset_cfg, Mapping):
        return None
    kind = _type_name(dataset_cfg.get('type'))
    if kind == 'RepeatDataset':
        inner, times = passes_per_loop_epoch(dataset_cfg.get('dataset')), dataset_cfg.get(
            'times')
        ok = inner is not None and isinstance(times, int) and not isinstance(times, bool)
        return inner * times if ok else None
    if kind == 'ConcatDataset' and isinstance(dataset_cfg.get('datasets'), (list, tuple)):
        parts = [passes_per_loop_epoch(d) for d in dataset_cfg['datasets']]
        return 1 if parts and all(p == 1 for p in parts) else None
    if 'dataset' in dataset_cfg or 'datasets' in dataset_cfg:
        return None
    return 1


def _loop_kind(train_cfg: Mapping) -> Optional[str]:
    """'epoch' | 'iter' for mmengine's loops (as ``Runner.build_train_loop`` picks), else None."""
    if 'type' in train_cfg:
        return {'EpochBasedTrainLoop': 'epoch', 'IterBasedTrainLoop': 'iter'}.get(
            _type_name(train_cfg['type']))
    if 'by_epoch' not in train_cfg:
        return None
    return 'epoch' if train_cfg['by_epoch'] else 'iter'


def check_rewind_fits_schedule(cfg: Mapping, settings: LotterySettings) -> None:
    """Refuse a rewind point at or beyond the end of a round, when the config tells.

    Epoch-based loop and ``rewind_epochs``: a round is ``max_epochs`` loop epochs of
    :func:`passes_per_loop_epoch` passes over the images each. Iteration-based loop and
    ``rewind_iter``: a round is ``max_iters``. The mixed cases need the dataset's size and
    are checked when round 0's Runner is built.

    Args:
        cfg: the full config.
        settings: the validated lottery settings.

    Raises:
        LotteryConfigError: the rewind point is not inside a round.
    """
    s = settings
    if s.rewind_from is not None or not needs_snapshot(s, len(s.plan())):
        return
    train_cfg = cfg.get('train_cfg') or {}
    kind = _loop_kind(train_cfg)
    if kind == 'epoch' and s.rewind_epochs is not None:
        passes = passes_per_loop_epoch((cfg.get('train_dataloader') or {}).get('dataset'))
        max_epochs = train_cfg.get('max_epochs')
        if passes is None or not isinstance(max_epochs, (int, float)):
            return
        point, length = f'lottery.rewind_epochs={s.rewind_epochs}', max_epochs * passes
        what = f'train_cfg.max_epochs={max_epochs}: {length} passes over the training images'
        if s.rewind_epochs < length:
            return
    elif kind == 'iter' and s.rewind_iter is not None:
        length = train_cfg.get('max_iters')
        if not isinstance(length, int) or s.rewind_iter < length:
            return
        point, what = f'lottery.rewind_iter={s.rewind_iter}', f'train_cfg.max_iters={length}'
    else:
        return
    raise LotteryConfigError(
        f'The rewind point ({point}) is beyond the length of a round ({what}): round 0 '
        'would end before its weights are snapshot. Lower lottery.rewind_epochs / '
        'lottery.rewind_iter (the paper rewinds to about one epoch) or lengthen train_cfg.')


def typed_lottery_keys_win(lottery, options: Mapping[str, Any]) -> List[str]:
    """Let the lottery keys typed on the command line win over the config's.

    ``--cfg-options`` is merged into a config whose bases may set a key exclusive with the
    typed one: ``configs/_base_/lottery_det.py`` sets ``rewind_epochs=1``, and a user who
    types ``lottery.rewind_iter=600`` means that point. Only here is it known what the user
    typed, so the typed key wins and the other is set to None (the caller logs it). A
    given ticket trains once; ``lottery.rounds=N`` (N > 1) typed with one asks for repeats,
    which are seeds, and is refused.

    Args:
        lottery: the merged config's ``lottery`` dict (changed in place).
        options: the parsed ``--cfg-options`` (dotted keys -> values).

    Returns:
        list[str]: one log line per config key the command line set to None.

    Raises:
        LotteryConfigError: ``lottery.rounds`` > 1 typed with a given ticket.
    """
    typed = {k.split('.')[1]: v for k, v in options.items() if k.startswith('lottery.')}
    lines = []
    for mine, other in (('rewind_iter', 'rewind_epochs'), ('rewind_epochs', 'rewind_iter')):
        if typed.get(mine) is not None and other not in typed and \
                lottery.get(other) is not None:
            lines.append(f'[lottery] --cfg-options lottery.{mine}={typed[mine]!r} wins over '
                         f"the config's lottery.{other}={lottery[other]!r} (they are "
                         f'exclusive): {other} set to None.')
            lottery[other] = None
    rounds = typed.get('rounds')
    if isinstance(rounds, int) and rounds > 1 and (lottery.get('ticket') is not None
                                                   or lottery.get('transfer') is not None):
        raise LotteryConfigError(
            f'lottery.rounds={rounds} with a given ticket (lottery.ticket / '
            'lottery.transfer): a given ticket is not pruned and trains once. Repeats of '
            'one ticket are seeds: tools/seeds.py launch CONFIG --seeds 0 1 2 -- '
            '--cfg-options lottery.ticket=... Drop lottery.rounds.')
    return lines
