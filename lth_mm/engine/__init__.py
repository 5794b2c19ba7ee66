# Copyright (c) lth_mm authors. All rights reserved.
"""mmengine glue: the orchestrator and the registered hooks (thin layers over lth_mm.pruning).

Each lottery round is its own mmengine Runner run (:class:`LotteryRunner`); inside it,
:class:`TicketMaskHook` enforces the masks, :class:`RewindSnapshotHook` takes round 0's
late-reset snapshot, :class:`RandomStateHook` and :class:`RestoreRandomStateHook` make
resume exact and
:class:`LotteryRoundHook` tells the round's hooks which round they are in
(:func:`round_info`).
"""
from . import checkpoint_compat  # noqa: F401  (torch>=2.6 + mmengine 0.10 resume)
from .checkpoint_io import CheckpointError
from .hooks import (CompactTicketHook, EarlyBirdHook, EvalArtifactsHook, LotteryRoundHook,
                    RandomStateHook, RestoreRandomStateHook, RewindSnapshotHook,
                    TicketMaskHook, ValLossHook,
                    round_info)
from .optim import MaskEnforcer
from .rewind import RewindError
from .runner import LotteryRunner

__all__ = [
    'CheckpointError', 'CompactTicketHook', 'EarlyBirdHook', 'EvalArtifactsHook',
    'LotteryRoundHook', 'RandomStateHook', 'RestoreRandomStateHook', 'RewindSnapshotHook',
    'TicketMaskHook',
    'ValLossHook', 'round_info', 'MaskEnforcer', 'RewindError', 'LotteryRunner'
]
