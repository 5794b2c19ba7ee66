# Copyright (c) lth_mm authors. All rights reserved.
from .lottery_runner import LotteryRunner, build_lottery_cfg

__all__ = ['LotteryRunner', 'build_lottery_cfg']
