# Copyright (c) lth_mm authors. All rights reserved.
"""What makes every lottery round a complete, fresh run of the user's train loop.

The lottery loops call these between rounds; nothing here knows about pruning.

* :class:`HookStates` captures, before the first round runs, the plain-data state of every
  hook (numbers, strings, containers of them, tensors, arrays) and the training dataset's
  ``pipeline``; :meth:`HookStates.restore` puts them back before each later round, so
  ``EarlyStoppingHook`` (``best_score``, ``wait_count``), mmdet's ``PipelineSwitchHook``
  (``_has_switched`` and the stage-2 pipeline it installed), ``CheckpointHook`` (best and
  kept checkpoints), ``IterTimerHook`` and users' own hooks start each round as they started
  round 0. Objects a hook holds (modules, file backends, the runner) are left as they are:
  ``EMAHook``'s average is restarted from the rewound weights by the ``LotteryHook``.
  A hook opts out (it accumulates across rounds) with ``lottery_persistent = True``.
* :func:`restart_data_stream` gives each round a working data stream in round 0's order
  (mmengine's ``InfiniteSampler`` iterates one generator made in ``__init__``, which is
  closed with the previous round's iterator).
"""
import collections
import copy
import numbers
from typing import Any, Dict, List

import numpy as np
import torch

# Runtime-info keys through which CheckpointHook carries best/kept checkpoints across a
# resume; a fresh round must not inherit them from the previous one.
CHECKPOINT_RUNTIME_KEYS = ('best_score', 'best_ckpt', 'keep_ckpt_ids', 'last_ckpt')

_MISSING = object()


def _is_plain(value: Any, depth: int = 0) -> bool:
    """Plain data: safe and cheap to deep-copy, and what a hook's counters are made of."""
    if depth > 4:
        return False
    if value is None or isinstance(value, (bool, numbers.Number, str, bytes, np.generic)):
        return True
    if isinstance(value, torch.nn.Parameter):
        return False
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return True
    if isinstance(value, (list, tuple, set, frozenset, collections.deque)):
        return all(_is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(k, depth + 1) and _is_plain(v, depth + 1)
                   for k, v in value.items())
    return False


def _dataset_of(runner):
    loop = getattr(runner, '_train_loop', None)
    loader = getattr(loop, 'dataloader', None)
    return getattr(loader, 'dataset', None), loader


class HookStates:
    """Capture and restore the plain state of a runner's hooks and its data pipeline.

    Args:
        runner: the Runner, before its first round.
    """

    def __init__(self, runner):
        self.states: Dict[int, Dict[str, Any]] = {}
        self.skipped: List[str] = []
        for hook in runner.hooks:
            if getattr(hook, 'lottery_persistent', False):
                continue
            state = {}
            for name, value in vars(hook).items():
                if _is_plain(value):
                    state[name] = copy.deepcopy(value)
                else:
                    self.skipped.append(f'{type(hook).__name__}.{name}')
            self.states[id(hook)] = state
        dataset, _ = _dataset_of(runner)
        self.pipeline = getattr(dataset, 'pipeline', _MISSING)

    def restore(self, runner) -> None:
        """Put every captured hook attribute and the dataset pipeline back.

        Plain attributes a hook created after the capture are removed, so the hook sees
        the same ``vars`` it had before round 0.

        Args:
            runner: the Runner, between two rounds.
        """
        for hook in runner.hooks:
            state = self.states.get(id(hook))
            if state is None:
                continue
            for name in [n for n, v in vars(hook).items() if n not in state and _is_plain(v)]:
                delattr(hook, name)
            for name, value in state.items():
                setattr(hook, name, copy.deepcopy(value))
        for key in list(runner.message_hub.runtime_info):
            if key.startswith(CHECKPOINT_RUNTIME_KEYS):
                runner.message_hub.runtime_info.pop(key)
        dataset, loader = _dataset_of(runner)
        if dataset is not None and getattr(dataset, 'pipeline', _MISSING) is not self.pipeline:
            # e.g. PipelineSwitchHook installed its stage-2 pipeline in the last round.
            if self.pipeline is _MISSING:
                delattr(dataset, 'pipeline')
            else:
                dataset.pipeline = self.pipeline
            if getattr(loader, 'persistent_workers', False):
                # Persistent workers hold a copy of the old pipeline: drop them, the next
                # iter() starts new ones.
                loader._iterator = None


def _samplers(dataloader) -> list:
    batch_sampler = getattr(dataloader, 'batch_sampler', None)
    found = []
    for sampler in (getattr(batch_sampler, 'sampler', None), getattr(dataloader, 'sampler',
                                                                       None)):
        if sampler is not None and hasattr(sampler, 'seed') and sampler not in found:
            found.append(sampler)
    return found


def sampler_seed(dataloader):
    """The shuffling seed of the dataloader's sampler (None when it has none).

    With ``randomness.seed=None`` mmengine's samplers draw their seed when the dataloader
    is built, before ``--resume`` restores anything, so a resumed run would shuffle
    differently; the loops keep this seed in the checkpoint and put it back.
    """
    samplers = _samplers(dataloader)
    return None if not samplers else samplers[0].seed


def set_sampler_seed(dataloader, seed) -> None:
    """Give the dataloader's sampler(s) this shuffling seed (see :func:`sampler_seed`)."""
    for sampler in _samplers(dataloader):
        if sampler.seed != seed:
            sampler.seed = seed
            if hasattr(sampler, '_indices_of_rank'):  # InfiniteSampler: regenerate
                sampler.indices = sampler._indices_of_rank()


def restart_data_stream(dataloader) -> None:
    """Make the next ``iter(dataloader)`` start the sampler's stream from its beginning.

    Args:
        dataloader: the training dataloader.
    """
    batch_sampler = getattr(dataloader, 'batch_sampler', None)
    for sampler in (getattr(batch_sampler, 'sampler', None), getattr(dataloader, 'sampler',
                                                                       None)):
        # mmengine's InfiniteSampler: `indices` is a generator made once in __init__.
        if sampler is not None and hasattr(sampler, '_indices_of_rank'):
            sampler.indices = sampler._indices_of_rank()
    # mmdet's AspectRatioBatchSampler keeps partly filled buckets between iterators.
    buckets = getattr(batch_sampler, '_aspect_ratio_buckets', None)
    if isinstance(buckets, list):
        batch_sampler._aspect_ratio_buckets = [[] for _ in buckets]
    if getattr(dataloader, 'persistent_workers', False):
        # Persistent workers prefetched batches of the old stream: start new ones.
        dataloader._iterator = None
