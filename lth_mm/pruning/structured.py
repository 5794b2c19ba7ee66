# Copyright (c) lth_mm authors. All rights reserved.
"""Structured (channel) criteria: tickets whose pruned weights are whole channels.

Registered in :data:`~lth_mm.pruning.registry.CRITERIA` like the unstructured ones and
chosen the same way (``lottery.criterion='channel_magnitude'``). For these criteria
``keep`` is the cumulative fraction of *channels* each prunable group keeps (the same
per-group rule everywhere, Li et al. 2017; rounded up, at least one channel), so a
channel keep of 0.5 leaves about a quarter of a conv's weights between two pruned groups.
The network sparsity a ticket reports counts every parameter its masks zero (weights,
biases, norm weights and the readers' input slices): the fraction of the network the
physically smaller model no longer has.

* ``channel_magnitude``: a channel's score is the mean absolute value of its producers'
  output filters (L1 filter pruning, Li et al. 2017), summed over a coupled group's
  producers.
* ``channel_refill``: Chen et al. 2022 ("Coarsening the granularity", IMP-Refill): an
  unstructured global-magnitude mask at ``unstructured_keep`` (default ``keep ** 2``, the
  weight density of a conv between two groups that keep ``keep`` of their channels)
  decides; a channel's score is the fraction of its filters' weights that survive it,
  and the chosen channels are refilled dense.

The random-channel control (same number of channels per group at random) is
:func:`random_channels`, used by :func:`lth_mm.pruning.round_start` for the controls of a
structured ticket. The criteria need the model's :class:`~.channels.ChannelStructure`
(``structure``), which the engine builds from the round's model.
"""
import math
from typing import Dict, Optional

import torch

from .channels import ChannelStructure, channel_dim
from .criteria import global_magnitude
from .registry import CRITERIA

Tensor = torch.Tensor


def _filter_scores(structure: ChannelStructure, values: Dict[str, Tensor], reduce) -> Dict[
        str, Tensor]:
    """Per group, a score per channel: ``reduce`` of each producer's output filters."""
    out = {}
    for g in structure.groups:
        score = torch.zeros(g.size, dtype=torch.float64)
        for name, idxs, roots in g.producers:
            v = values[name]
            dim = channel_dim(structure.module_of(name), True)
            rows = reduce(v.detach().transpose(0, dim).flatten(1).double().cpu())
            score.index_add_(0, torch.tensor(roots), rows[torch.tensor(idxs)])
        out[g.root] = score
    return out


def _select(structure: ChannelStructure, scores: Dict[str, Tensor],
            alive: Dict[str, Tensor], keep: float) -> Dict[str, Tensor]:
    """Keep the ``ceil(keep * size)`` best live channels of every group."""
    out = {}
    for g in structure.groups:
        k = max(1, math.ceil(keep * g.size - 1e-9))
        live = alive[g.root]
        if int(live.sum()) < k:
            raise ValueError(f'channel group {g.root}: {int(live.sum())} live channels, '
                             f'{k} to keep; keep ratios must not grow between rounds')
        s = scores[g.root].masked_fill(~live, -math.inf)
        chosen = torch.zeros(g.size, dtype=torch.bool)
        chosen[torch.topk(s, k, sorted=False).indices] = True
        out[g.root] = chosen
    return out


def _need(structure: Optional[ChannelStructure], name: str) -> ChannelStructure:
    if structure is None:
        raise ValueError(f'criterion {name!r} prunes channels and needs the model\'s channel '
                         'structure (lth_mm.pruning.ChannelStructure)')
    return structure


@CRITERIA.register_module(name='channel_magnitude')
def channel_magnitude(weights: Dict[str, Tensor], masks: Dict[str, Tensor], keep: float, *,
                      generator=None, min_density=None,
                      structure: Optional[ChannelStructure] = None,
                      coupled: bool = False) -> Dict[str, Tensor]:
    """Keep the channels with the largest mean absolute filter weight, per group.

    Args:
        weights: the prunable weights by name (trained values).
        masks: the masks in force (pruned channels stay pruned).
        keep: cumulative fraction of channels each group keeps.
        generator, min_density: unused (every group keeps at least one channel).
        structure: the model's channel groups.
        coupled: read by the engine when it builds ``structure`` (prune groups tied by
            additions too); recorded here so the config is validated.

    Returns:
        dict[str, Tensor]: boolean masks of every parameter the groups touch.
    """
    s = _need(structure, 'channel_magnitude')
    scores = _filter_scores(s, weights, lambda rows: rows.abs().mean(1))
    return s.masks(_select(s, scores, s.alive(masks), keep))


@CRITERIA.register_module(name='channel_refill')
def channel_refill(weights: Dict[str, Tensor], masks: Dict[str, Tensor], keep: float, *,
                   generator=None, min_density=None,
                   structure: Optional[ChannelStructure] = None, coupled: bool = False,
                   unstructured_keep: Optional[float] = None) -> Dict[str, Tensor]:
    """Keep the channels in which an unstructured magnitude ticket keeps most weights.

    Args:
        weights, masks, keep, structure, coupled: as in :func:`channel_magnitude`.
        unstructured_keep: the unstructured ticket's keep ratio (default ``keep ** 2``).

    Returns:
        dict[str, Tensor]: boolean masks of every parameter the groups touch.
    """
    s = _need(structure, 'channel_refill')
    if unstructured_keep is not None and not 0 < unstructured_keep <= 1:
        raise ValueError(f'channel_refill: unstructured_keep must be in (0, 1], got '
                         f'{unstructured_keep!r}')
    alive_w = {n: masks.get(n, torch.ones_like(w, dtype=torch.bool)) for n, w in
               weights.items()}
    u = global_magnitude(weights, alive_w, keep ** 2 if unstructured_keep is None else
                         unstructured_keep)
    scores = _filter_scores(s, {n: m.float() for n, m in u.items()},
                            lambda rows: rows.mean(1))
    return s.masks(_select(s, scores, s.alive(masks), keep))


channel_magnitude.structured = True
channel_refill.structured = True
channel_magnitude.options = ('coupled',)
channel_refill.options = ('coupled', 'unstructured_keep')


def random_channels(structure: ChannelStructure, ticket: Dict[str, Tensor],
                    generator: Optional[torch.Generator] = None) -> Dict[str, Tensor]:
    """The random-channel control: each group keeps as many channels as the ticket, at
    random (Frankle & Carbin's random-pruning control at channel granularity).

    Args:
        structure: the model's channel groups.
        ticket: the structured ticket's masks.
        generator: CPU random generator.

    Returns:
        dict[str, Tensor]: boolean masks of every parameter the groups touch.
    """
    keep = {}
    for root, alive in structure.alive(ticket).items():
        chosen = torch.zeros(alive.numel(), dtype=torch.bool)
        chosen[torch.randperm(alive.numel(), generator=generator)[:int(alive.sum())]] = True
        keep[root] = chosen
    return structure.masks(keep)


def is_structured(criterion) -> bool:
    """Whether a criterion config names a structured criterion (registry flag).

    Args:
        criterion: a name, ``dict(type=NAME, ...)`` or None.

    Returns:
        bool: True for a registered criterion with ``structured = True``.
    """
    if criterion is None:
        return False
    name = criterion if isinstance(criterion, str) else dict(criterion).get('type')
    try:
        return bool(getattr(CRITERIA.get(name), 'structured', False))
    except KeyError:
        return False


def model_structure(model: torch.nn.Module, prunable, criterion) -> ChannelStructure:
    """The channel structure of an OpenMMLab model, traced through Scope II's probe
    forwards (``loss`` mode for detectors: it reaches the RPN and every head), with the
    model's final predictors kept whole.

    Args:
        model: the (unwrapped) model; its buffers, mode and random streams are kept.
        prunable: the prunable weight names (the scope).
        criterion: the structured criterion's config (reads its ``coupled`` option).

    Returns:
        ChannelStructure: the model's prunable channel groups.
    """
    from .predictors import state_kept
    from .probe import probe_forwards
    from .scope import predictor_info
    options = {} if isinstance(criterion, str) else dict(criterion)
    ignored = [n.rsplit('.', 1)[0] for n in predictor_info(model).names]
    with state_kept(model):
        forwards, _ = probe_forwards(model)
        forward = forwards.get('loss', forwards['tensor'])
        return ChannelStructure(model, forward, prunable, ignored=ignored,
                                coupled=bool(options.get('coupled', False)))
