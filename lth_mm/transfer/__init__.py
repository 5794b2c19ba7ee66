# Copyright (c) lth_mm authors. All rights reserved.
"""Ticket transfer (the paper's Tables 1, 2, 4, 5): build a ticket for a target model from
a classifier ticket (``imagenet``), from pretrained weights pruned by magnitude (``mask``)
or from another task's ticket (``task``).

:func:`build_transfer_ticket` is the one entry point, used by ``tools/transfer.py`` and by
the lottery engine for ``lottery.transfer``. The math lives in :mod:`.modes` and :mod:`.names`
(pure PyTorch); :mod:`.sources` reads files.
"""
from typing import List, Optional

import torch.nn as nn

from ..pruning import MaskSet, Ticket, count_parameters, ticket_meta
from .modes import (BACKBONE_PREFIX, THRESHOLDS, backbone_sparsity, imagenet_masks,
                    mask_transfer_masks, task_masks)
from .names import (TransferError, describe_rule, map_names, shape_mismatches,
                    strip_wrappers)
from .sources import Source, read_source

MODES = ('imagenet', 'mask', 'task')
# A task transfer whose shared tensors cover less of the target's prunable weights than
# this is refused (unless allow_partial): the ticket would be almost dense by accident.
MIN_TASK_COVERAGE = 0.5

__all__ = ['MODES', 'THRESHOLDS', 'TransferError', 'Source', 'build_transfer_ticket',
           'read_source', 'map_names', 'strip_wrappers', 'imagenet_masks',
           'mask_transfer_masks', 'task_masks', 'backbone_sparsity']


def _check_args(mode, keep_ratio, threshold) -> None:
    if mode not in MODES:
        raise TransferError(f'transfer mode must be one of {MODES}, got {mode!r}.')
    if keep_ratio is not None and (isinstance(keep_ratio, bool) or not isinstance(
            keep_ratio, (int, float)) or not 0 < keep_ratio <= 1):
        raise TransferError(f'transfer keep_ratio must be in (0, 1], got {keep_ratio!r}.')
    if mode == 'mask' and keep_ratio is None:
        raise TransferError("mode='mask' prunes the pretrained weights by magnitude: give "
                            'keep_ratio (e.g. 0.2 keeps 20%).')
    if mode != 'mask' and keep_ratio is not None:
        raise TransferError(f'keep_ratio applies to mode=\'mask\' only; mode={mode!r} takes '
                            'the mask from the source, so leave keep_ratio unset.')
    if threshold not in THRESHOLDS:
        raise TransferError(f'transfer threshold must be one of {THRESHOLDS}, got '
                            f'{threshold!r}.')


def _shapes(src: Source):
    shapes = {n: tuple(t.shape) for n, t in src.tensors.items()}
    shapes.update({n: tuple(m.shape) for n, m in (src.masks or {}).items()})
    return shapes


def build_transfer_ticket(model: nn.Module, prunable_names: List[str], mode: str,
                          source: str, keep_ratio: Optional[float] = None,
                          threshold: str = 'model', allow_partial: bool = False) -> Ticket:
    """Build a ticket for ``model`` by transfer.

    Args:
        model: the target model (unwrapped), initialised as its config says.
        prunable_names: the target's prunable weights (its lottery scope).
        mode: ``'imagenet'`` (a classifier ticket's mask and values into the backbone),
            ``'mask'`` (pretrained weights pruned by magnitude, zeros kept in the backbone,
            pretrained values) or ``'task'`` (another task's ticket mask on the shared
            tensors, values from the target's initialisation).
        source: the source file (ticket, checkpoint or state dict).
        keep_ratio: for ``'mask'`` only: the fraction kept under the threshold.
        threshold: for ``'mask'``: ``'model'`` (over all prunable weights, the paper's
            code) or ``'backbone'``.
        allow_partial: ``'task'``: accept shared tensors that cover less than
            :data:`MIN_TASK_COVERAGE` of the target's prunable weights.

    Returns:
        Ticket: masks over exactly ``prunable_names`` (all-ones where the source says
        nothing), meta (mode, source, backbone sparsity, ...) and values (``imagenet`` and
        ``mask``: the source's backbone tensors, BN buffers included; ``task``: None).

    Raises:
        TransferError: bad arguments, unreadable source, names or shapes that do not
            match, a source without zeros where a mask is read from its zeros.
    """
    _check_args(mode, keep_ratio, threshold)
    src = read_source(source)
    params = dict(model.named_parameters())
    state = model.state_dict()
    target_shapes = {n: tuple(t.shape) for n, t in state.items()}
    target_weights = {n: params[n].detach().cpu() for n in prunable_names}
    backbone_only = mode in ('imagenet', 'mask')
    wanted = [n for n in prunable_names if n.startswith(BACKBONE_PREFIX)] if backbone_only \
        else list(prunable_names)
    if not wanted:
        raise TransferError(f'mode={mode!r} transfers into the backbone, but the target has '
                            'no prunable `backbone.*` weight; check lottery.prune_scope.')
    src_shapes = _shapes(src)
    mapping, rule = map_names(src_shapes, target_shapes, wanted, c4=backbone_only)
    if backbone_only:
        mapping = {t: s for t, s in mapping.items() if t.startswith(BACKBONE_PREFIX)}
    else:  # task: only the prunable tensors both models share matter
        mapping = {t: s for t, s in mapping.items() if t in target_weights}
    bad = shape_mismatches(mapping, src_shapes, target_shapes)
    if bad and not backbone_only:
        # task: a tensor is shared only with the same name AND shape (e.g. a head built for
        # another number of outputs is the target's own, dense)
        mapping = {t: s for t, s in mapping.items()
                   if tuple(src_shapes[s]) == target_shapes[t]}
    elif bad:
        raise TransferError(
            f'transfer source {source!r} does not fit the target ({describe_rule(rule)}): '
            f'{len(bad)} shape mismatch(es), e.g. {bad[:4]}. Use a source of the same '
            'architecture (e.g. the same ResNet depth) as the target.')
    missing = [n for n in wanted if n not in mapping]
    if backbone_only and missing:
        unused = [s for s in src_shapes if s not in set(mapping.values())]
        raise TransferError(
            f'transfer source {source!r} covers {len(wanted) - len(missing)} of the '
            f'{len(wanted)} prunable backbone weights of the target ({describe_rule(rule)}); '
            f'missing e.g. {missing[:4]}; source names left unused e.g. {unused[:4]}. Use a '
            'source of the same architecture as the target backbone (e.g. an R18 ticket for '
            'an R18 detector).')
    if not backbone_only and not mapping:
        raise TransferError(
            f'transfer source {source!r} and the target share no prunable tensor (same name '
            f'and shape; {len(bad)} same-name tensor(s) differ in shape); source names e.g. '
            f'{list(src_shapes)[:4]}, target prunable names e.g. {wanted[:4]}. mode=\'task\' needs a ticket of a model with common modules.')

    numel = {n: target_weights[n].numel() for n in prunable_names}
    coverage = sum(numel[n] for n in mapping if n in numel) / max(sum(numel.values()), 1)
    if mode == 'task' and coverage < MIN_TASK_COVERAGE and not allow_partial:
        raise TransferError(
            f'transfer source {source!r} covers only {100 * coverage:.1f}% of the target\'s '
            f'prunable weights ({len(mapping)} of {len(prunable_names)} tensors share name '
            f'and shape; the rest would stay dense), under {100 * MIN_TASK_COVERAGE:.0f}%. '
            'Use a ticket of a model with the same modules, or accept it with '
            '--allow-partial (lottery.transfer.allow_partial=True).')
    values = {t: src.tensors[s] for t, s in mapping.items() if s in src.tensors}
    src_masks = None if src.masks is None else {
        t: src.masks[s] for t, s in mapping.items() if s in src.masks}
    if mode in ('imagenet', 'mask'):
        lacking = [n for n in wanted if n not in values]
        if lacking:
            raise TransferError(
                f'mode={mode!r} needs the source\'s weight values, but {source!r} is a ticket '
                f'without values for e.g. {lacking[:3]}: give the trained checkpoint '
                '(round_*/final.pth) instead of its ticket.')
    if mode == 'imagenet':
        masks, values = imagenet_masks(target_weights, values, src_masks)
    elif mode == 'mask':
        masks = mask_transfer_masks(target_weights, values, keep_ratio, threshold)
    else:
        if src_masks is None:
            src_masks = {t: values[t] != 0 for t in mapping}
            if all(bool(m.all()) for m in src_masks.values()):
                raise TransferError(
                    f"mode='task' reads the mask from the source's zeros, but the shared "
                    f'weights of {source!r} have none: give the source task\'s ticket '
                    '(round_*/ticket.pth) or a pruned checkpoint.')
        masks = task_masks(target_weights, src_masks)
        values = None
    maskset = MaskSet({n: masks[n] for n in prunable_names})
    meta = ticket_meta(
        maskset, count_parameters(model), kind='given_ticket', mode=mode, source=source,
        source_format=src.fmt, name_mapping=describe_rule(rule),
        matched_prunable=sum(n in mapping for n in prunable_names), coverage=coverage,
        shape_mismatches_left_dense=len(bad),
        backbone_sparsity=backbone_sparsity(masks),
        transfer=dict(mode=mode, source=source, keep_ratio=keep_ratio, threshold=threshold,
                      allow_partial=allow_partial))
    return Ticket(masks=maskset, meta=meta, values=values)
