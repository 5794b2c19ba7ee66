# Copyright (c) lth_mm authors. All rights reserved.
from .lottery_loops import LotteryEpochBasedTrainLoop, LotteryIterBasedTrainLoop

__all__ = ['LotteryEpochBasedTrainLoop', 'LotteryIterBasedTrainLoop']
