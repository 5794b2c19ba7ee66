# Copyright (c) lth_mm authors. All rights reserved.
from .lottery_hook import LotteryHook, RewindError

__all__ = ['LotteryHook', 'RewindError']
