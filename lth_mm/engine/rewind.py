# Copyright (c) lth_mm authors. All rights reserved.
"""The rewind point and the rewind state, resolved against the user's Runner.

* :func:`iters_per_epoch`: iterations of one pass over the training *images*, whatever the
  sampler (mmengine's ``InfiniteSampler.__len__`` is the whole dataset, not this rank's
  share) and whatever the dataset wrappers (``RepeatDataset`` and friends are unwrapped, so
  ``rewind_epochs=1`` means one pass over the images, as in the paper).
* :func:`warmup_end` / :func:`warmup_warning`: a rewind point inside the LR warm-up costs
  AP (the paper, Sec. 4.3); the hook warns about it.
* :func:`rewind_point_for_run`: the point resolved against round 0's Runner, checked and
  logged.
"""
import math
from typing import Optional

from torch.utils.data import ConcatDataset as TorchConcatDataset

from .checkpoint_io import CheckpointError


class RewindError(CheckpointError):
    """Invalid rewind point or rewind checkpoint."""


def dataset_images(dataset) -> int:
    """Number of distinct samples in one pass over a dataset, wrappers unwrapped.

    ``RepeatDataset`` / ``ClassBalancedDataset`` (mmengine, mmdet) count their inner dataset
    once; ``ConcatDataset`` counts the sum of its parts.

    Args:
        dataset: the training dataset (possibly wrapped).

    Returns:
        int: the number of samples in one epoch of the underlying data.
    """
    if isinstance(dataset, TorchConcatDataset) or hasattr(dataset, 'datasets'):
        return sum(dataset_images(d) for d in dataset.datasets)
    # RepeatDataset(times=...), ClassBalancedDataset(oversample_thr=...), MultiImageMix...
    inner = getattr(dataset, 'dataset', None)
    if inner is not None and inner is not dataset and hasattr(inner, '__len__'):
        return dataset_images(inner)
    return len(dataset)


def loader_batch_size(dataloader) -> int:
    """The per-rank batch size of a dataloader (also with mmdet's batch samplers).

    Args:
        dataloader: a torch ``DataLoader``.

    Returns:
        int: samples per iteration on one rank.
    """
    bs = getattr(dataloader, 'batch_size', None)
    if bs is None:  # batch_sampler=AspectRatioBatchSampler(...) leaves batch_size None
        bs = getattr(getattr(dataloader, 'batch_sampler', None), 'batch_size', None)
    if not bs:
        raise RewindError('cannot tell the batch size of the training dataloader; set '
                          'lottery.rewind_iter instead of lottery.rewind_epochs.')
    return int(bs)


def iters_per_epoch(dataloader, world_size: int) -> int:
    """Iterations of one pass over the training images on ``world_size`` ranks.

    Args:
        dataloader: the training dataloader.
        world_size: number of ranks.

    Returns:
        int: ``ceil(images / (world_size x batch size))``.
    """
    images = dataset_images(dataloader.dataset)
    return max(1, math.ceil(images / (world_size * loader_batch_size(dataloader))))


def resolve_rewind_iter(rewind_iter: Optional[int], rewind_epochs: Optional[float],
                        ipe: int) -> int:
    """The rewind point in iterations.

    Args:
        rewind_iter: ``lottery.rewind_iter``.
        rewind_epochs: ``lottery.rewind_epochs`` (passes over the images).
        ipe: iterations per epoch (:func:`iters_per_epoch`).

    Returns:
        int: the iteration at which round 0's weights are snapshot.
    """
    if rewind_epochs is not None:
        return int(round(float(rewind_epochs) * ipe))
    return int(rewind_iter or 0)


def warmup_end(param_scheduler, loop_ipe: int) -> Optional[int]:
    """The last iteration of a warm-up scheduler in the config, or None.

    A warm-up is a ``LinearLR``/``ConstantLR``/``ExponentialLR``-style scheduler on the
    learning rate that starts at iteration 0 and ends before the main schedule (mmdet's and
    mmpose's ``LinearLR(start_factor=0.001, begin=0, end=500)``), or any scheduler whose
    type name contains ``Warmup``.

    Args:
        param_scheduler: the config's ``param_scheduler`` (dict, list or None).
        loop_ipe: iterations of one epoch of the train loop (for ``by_epoch`` bounds).

    Returns:
        int | None: the iteration at which the warm-up ends.
    """
    if param_scheduler is None:
        return None
    scheds = param_scheduler if isinstance(param_scheduler, (list, tuple)) else [
        param_scheduler]
    end = None
    for s in scheds:
        if not isinstance(s, dict):
            continue
        t = str(s.get('type', ''))
        is_warmup = 'Warmup' in t or (t in ('LinearLR', 'ConstantLR')
                                      and s.get('start_factor', s.get('factor', 1)) < 1)
        if not is_warmup or s.get('begin', 0) != 0:
            continue
        e = s.get('end', s.get('total_iters'))
        if e is None or e == float('inf') or e > 10**8:
            continue
        e_iter = e * loop_ipe if s.get('by_epoch', True) else e
        end = max(end or 0, int(e_iter))
    return end


def warmup_warning(rewind_iter: int, param_scheduler, loop_ipe: int) -> Optional[str]:
    """A warning when the rewind point falls inside a warm-up, else None.

    Args:
        rewind_iter: the rewind point.
        param_scheduler: the config's ``param_scheduler``.
        loop_ipe: iterations of one epoch of the train loop.

    Returns:
        str | None: the warning text.
    """
    end = warmup_end(param_scheduler, loop_ipe)
    # Iteration 0 is a reset to the initialisation (Frankle & Carbin), not a late reset.
    if end is None or rewind_iter == 0 or rewind_iter >= end:
        return None
    return (f'[lottery] the rewind point (iteration {rewind_iter}) falls inside the LR '
            f'warm-up (it ends at iteration {end}): resetting before the LR has warmed up '
            'costs AP (Girish et al., Sec. 4.3). Set lottery.rewind_iter >= '
            f'{end} (or lottery.rewind_epochs accordingly) unless this is intended.')


def rewind_point_for_run(runner, settings, needs_snapshot: bool,
                         rewind_from_iter: Optional[int] = None) -> int:
    """Resolve, check and log the rewind point of a lottery run, before any training.

    Args:
        runner: the Runner (its train loop and dataloader are built).
        settings: the run's :class:`~lth_mm.pruning.LotterySettings`.
        needs_snapshot: whether round 0 will snapshot the weights at the rewind point.
        rewind_from_iter: the ``meta.iter`` of the ``rewind_from`` checkpoint, if any.

    Returns:
        int: the rewind iteration.

    Raises:
        RewindError: a rewind point beyond a round, or ``rewind_mode='continue'`` off an
            epoch boundary of an epoch-based loop.
    """
    from mmengine.dist import get_world_size
    from mmengine.runner import EpochBasedTrainLoop
    s = settings
    loop = runner.train_loop
    world = get_world_size()
    ipe = iters_per_epoch(loop.dataloader, world)
    if rewind_from_iter is not None:
        k = int(rewind_from_iter)
    else:
        k = resolve_rewind_iter(s.rewind_iter, s.rewind_epochs, ipe)
    max_iters = loop.max_iters
    if needs_snapshot and k >= max_iters:
        raise RewindError(
            f'The rewind point (iteration {k}) is beyond the length of a round ({max_iters} '
            f'iterations; one pass over the images is {ipe} iterations). Lower '
            'lottery.rewind_iter / lottery.rewind_epochs (the paper rewinds to about one '
            'epoch).')
    epoch_based = isinstance(loop, EpochBasedTrainLoop)
    loop_ipe = len(loop.dataloader) if epoch_based else ipe
    if s.rewind_mode == 'continue' and epoch_based and k % loop_ipe:
        raise RewindError(
            "lottery.rewind_mode='continue' with an epoch-based loop needs the rewind point "
            f'on an epoch boundary of the loop (a multiple of {loop_ipe} iterations), got {k}.'
            ' Use lottery.rewind_iter=<multiple>.')
    if needs_snapshot or rewind_from_iter is not None:
        bs = loader_batch_size(loop.dataloader)
        images = dataset_images(loop.dataloader.dataset)
        runner.logger.info(
            f'[lottery] rewind point: iteration {k} of {max_iters} '
            f'({100 * k / max(max_iters, 1):.1f}% of a round): {k * world * bs:,} images, '
            f'{k / ipe:.3f} passes over the {images:,} training images ({ipe} iterations '
            f'each at {world} rank(s) x batch {bs}).')
        warning = warmup_warning(k, runner.cfg.get('param_scheduler'), loop_ipe)
        if warning and rewind_from_iter is None:
            runner.logger.warning(warning)
    return k
