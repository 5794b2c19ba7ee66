# Copyright (c) lth_mm authors. All rights reserved.
from .compact_ticket_hook import CompactTicketHook
from .early_bird_hook import EarlyBirdHook
from .eval_artifacts_hook import EvalArtifactsHook
from .lottery_hook import LotteryHook, RewindError
from .random_state_hook import RandomStateHook
from .val_loss_hook import ValLossHook

__all__ = [
    'CompactTicketHook', 'EarlyBirdHook', 'EvalArtifactsHook', 'LotteryHook', 'RandomStateHook',
    'RewindError', 'ValLossHook'
]
