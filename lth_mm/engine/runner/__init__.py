# Copyright (c) lth_mm authors. All rights reserved.
from .lottery_runner import LotteryRunner

__all__ = ['LotteryRunner']
