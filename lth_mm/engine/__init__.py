# Copyright (c) lth_mm authors. All rights reserved.
"""mmengine glue: registered hook, loops and runner (thin layers over lth_mm.pruning)."""
from .hooks import LotteryHook, RewindError
from .loops import LotteryEpochBasedTrainLoop, LotteryIterBasedTrainLoop
from .optim import MaskEnforcer
from .runner import LotteryRunner, build_lottery_cfg

__all__ = [
    'LotteryHook', 'RewindError', 'LotteryEpochBasedTrainLoop', 'LotteryIterBasedTrainLoop',
    'MaskEnforcer', 'LotteryRunner', 'build_lottery_cfg'
]
