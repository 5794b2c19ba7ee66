# Copyright (c) lth_mm authors. All rights reserved.
from .compact_ticket_hook import CompactTicketHook
from .early_bird_hook import EarlyBirdHook
from .eval_artifacts_hook import EvalArtifactsHook
from .lottery_round_hook import LotteryRoundHook, round_info
from .random_state_hook import RandomStateHook, RestoreRandomStateHook
from .rewind_snapshot_hook import RewindSnapshotHook
from .ticket_mask_hook import TicketMaskHook
from .val_loss_hook import ValLossHook

__all__ = [
    'CompactTicketHook', 'EarlyBirdHook', 'EvalArtifactsHook', 'LotteryRoundHook',
    'RandomStateHook', 'RestoreRandomStateHook', 'RewindSnapshotHook', 'TicketMaskHook', 'ValLossHook', 'round_info'
]
