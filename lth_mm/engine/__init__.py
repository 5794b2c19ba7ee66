# Copyright (c) lth_mm authors. All rights reserved.
"""mmengine glue: registered hook, loops and runner (thin layers over lth_mm.pruning)."""
from . import checkpoint_compat  # noqa: F401  (torch>=2.6 + mmengine 0.10 resume)
from .hooks import (EarlyBirdHook, EvalArtifactsHook, LotteryHook, RandomStateHook,
                    RewindError, ValLossHook)
from .loops import LotteryEpochBasedTrainLoop, LotteryIterBasedTrainLoop
from .optim import MaskEnforcer
from .runner import LotteryRunner, build_lottery_cfg

__all__ = [
    'LotteryHook', 'RandomStateHook', 'RewindError', 'EarlyBirdHook', 'EvalArtifactsHook', 'ValLossHook',
    'LotteryEpochBasedTrainLoop', 'LotteryIterBasedTrainLoop',
    'MaskEnforcer', 'LotteryRunner', 'build_lottery_cfg'
]
