# Copyright (c) lth_mm authors. All rights reserved.
"""The Runner entry point that turns any mmdet/mmpose config into a lottery experiment.

``configs/_base_/lottery.py`` sets ``runner_type = 'LotteryRunner'``; mmdet's, mmpose's and
our ``tools/train.py`` build ``RUNNERS.build(cfg)`` when ``runner_type`` is set, which calls
:meth:`LotteryRunner.from_cfg`. That validates the ``lottery`` block (before anything is
built or written), swaps the user's train loop for its lottery counterpart and adds the
:class:`~lth_mm.engine.hooks.LotteryHook`. Nothing else in the user's config changes.
"""
import copy

from mmengine.config import Config, ConfigDict
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ...pruning.settings import LotteryConfigError, LotterySettings

LOOP_MAP = {
    'EpochBasedTrainLoop': 'LotteryEpochBasedTrainLoop',
    'IterBasedTrainLoop': 'LotteryIterBasedTrainLoop',
}


def build_lottery_cfg(cfg: Config) -> Config:
    """Return a copy of ``cfg`` wired for a lottery experiment.

    Args:
        cfg: a full mmengine config with a top-level ``lottery`` dict.

    Returns:
        Config: the config with the lottery train loop and hook.

    Raises:
        LotteryConfigError: invalid ``lottery`` block or an unsupported train loop.
    """
    cfg = copy.deepcopy(cfg)
    settings = LotterySettings.from_dict(cfg.get('lottery'))
    train_cfg = cfg.get('train_cfg')
    if not train_cfg:
        raise LotteryConfigError('A lottery experiment trains: the config needs `train_cfg`.')
    train_cfg = ConfigDict(train_cfg)
    loop_type = train_cfg.get('type')
    if loop_type is None:
        loop_type = ('EpochBasedTrainLoop' if train_cfg.pop('by_epoch', True)
                     else 'IterBasedTrainLoop')
    if loop_type in LOOP_MAP:
        train_cfg['type'] = LOOP_MAP[loop_type]
    elif loop_type not in LOOP_MAP.values():
        raise LotteryConfigError(
            f'train_cfg.type={loop_type!r} is not supported by lth_mm: use '
            f'{list(LOOP_MAP)} (each round reruns that loop).')
    train_cfg['num_rounds'] = len(settings.plan())
    cfg.train_cfg = train_cfg
    ours = ('LotteryHook', 'RandomStateHook')
    hooks = [h for h in (cfg.get('custom_hooks') or []) if h.get('type') not in ours]
    hooks += [dict(type='LotteryHook', **settings.to_dict()), dict(type='RandomStateHook')]
    # The compact lossless ticket, its file size and MACs per round; a user's own entry
    # (e.g. dict(type='CompactTicketHook', count_macs=False)) wins.
    if not any(h.get('type') == 'CompactTicketHook' for h in hooks):
        hooks.append(dict(type='CompactTicketHook'))
    cfg.custom_hooks = hooks
    return cfg


@RUNNERS.register_module()
class LotteryRunner(Runner):
    """A :class:`~mmengine.runner.Runner` that runs every round of a lottery experiment.

    Use it through the config (``runner_type = 'LotteryRunner'``, set by our ``_base_``);
    ``from_cfg`` does the wiring described in the module docstring.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> 'Runner':
        """Validate the lottery block, wire the loop and hook, then build the Runner."""
        return super().from_cfg(build_lottery_cfg(cfg))
