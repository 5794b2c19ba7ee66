# Copyright (c) lth_mm authors. All rights reserved.
"""Name mapping between a transfer source and a target model (pure PyTorch, no mmengine).

mmdet, mmpose and mmpretrain ResNets all use torchvision's parameter names (``conv1``,
``layerX.Y.convK``, ``downsample.0``), so a source maps onto a target by prefix alone:
wrapper prefixes (``module.`` from DDP, ``model.`` from open_lth) are removed, then the
source's ``backbone.`` prefix is kept, dropped or added, whichever matches the most target
names. Names are then checked strictly by shape. Written by hand: no kept library maps
state_dict names across OpenMMLab codebases by prefix with shape checks.
"""
from typing import Dict, List, Mapping, Sequence, Tuple

import torch

# Prefixes added by training wrappers, removed from every source key (repeatedly, so
# ``module.model.`` works too).
WRAPPER_PREFIXES: Sequence[str] = ('module.', 'model.')
# (prefix removed from the source name, prefix added to form the target name).
PREFIX_RULES: Sequence[Tuple[str, str]] = (('', ''), ('', 'backbone.'), ('backbone.', ''))
# In mmdet's C4 detectors (the paper's VOC model) res5 is not in the backbone but runs on RoI
# features as ``roi_head.shared_head.layer4``: a rule that lands on ``backbone.`` also tries
# this prefix for the names the backbone lacks.
C4_PREFIX = 'roi_head.shared_head.'


class TransferError(ValueError):
    """A transfer source cannot make a ticket for the target model."""


def strip_wrappers(state: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Remove DDP / open_lth wrapper prefixes from every key.

    Args:
        state: a state dict.

    Returns:
        dict: the same tensors under unwrapped names.
    """
    out = {}
    for key, value in state.items():
        changed = True
        while changed:
            changed = False
            for p in WRAPPER_PREFIXES:
                if key.startswith(p):
                    key, changed = key[len(p):], True
        out[key] = value
    return out


def _rename(name: str, rule: Tuple[str, str]):
    drop, add = rule
    if not name.startswith(drop):
        return None
    return add + name[len(drop):]


def map_names(source: Mapping[str, Sequence[int]], target: Mapping[str, Sequence[int]],
              wanted: Sequence[str], c4: bool = False
              ) -> Tuple[Dict[str, str], Tuple[str, str]]:
    """Map source names onto target names by the prefix rule that matches most of ``wanted``.

    Args:
        source: source name -> shape (wrapper prefixes already stripped).
        target: target name -> shape (all parameters and buffers of the target).
        wanted: the target names the transfer needs (used to pick the rule).
        c4: also map the source's res5 (``layer4``) onto a C4 detector's
            ``roi_head.shared_head.layer4`` where the target's backbone has none.

    Returns:
        tuple: ``{target name: source name}`` for every source name that lands on a
        target name (shapes not yet checked), and the prefix rule used.
    """
    best, best_rule, best_hits = {}, PREFIX_RULES[0], -1
    wanted = set(wanted)
    for rule in PREFIX_RULES:
        mapping = {}
        for s in source:
            t = _rename(s, rule)
            if t is not None and t in target:
                mapping[t] = s
        if c4 and (rule[1] == 'backbone.' or rule == ('', '')) and any(
                n.startswith('backbone.') for n in mapping):
            for s in source:
                t = _rename(s, (rule[0] + ('backbone.' if rule[1] != 'backbone.' else ''),
                                C4_PREFIX))
                if t is not None and t in target and t not in mapping:
                    mapping[t] = s
        hits = len(wanted.intersection(mapping))
        if hits > best_hits:
            best, best_rule, best_hits = mapping, rule, hits
    return best, best_rule


def shape_mismatches(mapping: Mapping[str, str], source: Mapping[str, Sequence[int]],
                     target: Mapping[str, Sequence[int]]) -> List[str]:
    """The mapped names whose shapes differ, formatted for an error message."""
    return [f'{t}: source {tuple(source[s])} vs target {tuple(target[t])}'
            for t, s in mapping.items() if tuple(source[s]) != tuple(target[t])]


def describe_rule(rule: Tuple[str, str]) -> str:
    """A human-readable form of a prefix rule."""
    drop, add = rule
    if not drop and not add:
        return 'same names'
    if drop:
        return f'source {drop!r} removed'
    return f'target {add!r} added'
