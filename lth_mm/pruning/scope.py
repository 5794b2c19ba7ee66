# Copyright (c) lth_mm authors. All rights reserved.
"""Which parameters are prunable.

Pure PyTorch (no mmengine). A *scope* turns a model into an ordered list of parameter names
whose weights get a mask. Names are those of ``model.named_parameters()`` on the unwrapped
model (no ``module.`` prefix from DDP).
"""
import re
from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch.nn as nn

# The final predictors that the paper's official code leaves dense: classification, box
# regression, objectness, mask logits and keypoint heatmap logits. Names follow mmdet 3.x
# and mmpose 1.x heads (two-stage RPN/RoI heads, single-stage heads, top-down heatmap
# heads, Keypoint R-CNN style heads).
PREDICTOR_PATTERNS: Sequence[str] = (
    r'(^|\.)rpn_cls(\.|$)',
    r'(^|\.)rpn_reg(\.|$)',
    r'(^|\.)fc_cls(\.|$)',
    r'(^|\.)fc_reg(\.|$)',
    r'(^|\.)conv_logits(\.|$)',
    r'(^|\.)conv_cls(\.|$)',
    r'(^|\.)conv_reg(\.|$)',
    r'(^|\.)conv_centerness(\.|$)',
    r'(^|\.)conv_objectness(\.|$)',
    r'(^|\.)retina_cls(\.|$)',
    r'(^|\.)retina_reg(\.|$)',
    r'(^|\.)atss_(cls|reg|centerness)(\.|$)',
    r'(^|\.)(cls|reg|obj)_convs_pred(\.|$)',
    r'(^|\.)multi_level_conv_(cls|reg|obj)(\.|$)',
    r'(^|\.)final_layer(\.|$)',
    r'(^|\.)kpt_logits(\.|$)',
    r'(^|\.)keypoint_predictor(\.|$)',
)

# 1x1 projection shortcuts of residual blocks (mmdet/mmpretrain ResNet call them
# ``downsample``); the paper's rule leaves them dense.
SHORTCUT_PATTERNS: Sequence[str] = (r'(^|\.)downsample(\.|$)', r'(^|\.)shortcut(\.|$)')

# Module groups, used for the paper's VOC module ablation and for per-group reports.
# Group names map to regexes on parameter names. ``backbone_top`` is the paper's "top"
# (res5): in the C4 Faster R-CNN of the official VOC code it runs on RoI features; in FPN
# models it is ``backbone.layer4`` (and ``roi_head.shared_head`` in mmdet's C4 models).
MODULE_GROUPS: Dict[str, str] = {
    'backbone': r'^backbone\.',
    'backbone_base': r'^backbone\.(?!layer4\.)',
    'backbone_top': r'^backbone\.layer4\.|^roi_head\.shared_head\.',
    'neck': r'^neck\.',
    'rpn': r'^rpn_head\.',
    'roi_head': r'^roi_head\.',
    'box_head': r'^roi_head\.bbox_head\.|^bbox_head\.',
    'mask_head': r'^roi_head\.mask_head\.|^mask_head\.',
    'keypoint_head': r'^roi_head\.keypoint_head\.|^head\.',
}
# Friendly aliases used in the issue tracker / paper wording.
GROUP_ALIASES: Dict[str, str] = {'roi_top': 'backbone_top', 'base': 'backbone_base',
                                 'top': 'backbone_top', 'head': 'keypoint_head'}

PRESETS = ('paper', 'backbone', 'all')

_WEIGHTED_TYPES = (nn.modules.conv._ConvNd, nn.Linear)


class ScopeError(ValueError):
    """Raised when a pruning scope is invalid or selects no parameter."""


def _compile(patterns: Optional[Iterable[str]], what: str) -> List[re.Pattern]:
    if patterns is None:
        return []
    if isinstance(patterns, str):
        patterns = [patterns]
    compiled = []
    for p in patterns:
        try:
            compiled.append(re.compile(p))
        except re.error as e:
            raise ScopeError(f'lottery.{what}: invalid regular expression {p!r}: {e}') from e
    return compiled


def resolve_groups(groups: Optional[Sequence[str]]) -> List[str]:
    """Check group names and map aliases to canonical names.

    Args:
        groups: group names (see :data:`MODULE_GROUPS`) or aliases, or None.

    Returns:
        list[str]: canonical group names (empty if ``groups`` is None).
    """
    if groups is None:
        return []
    if isinstance(groups, str):
        groups = [groups]
    out = []
    for g in groups:
        g = GROUP_ALIASES.get(g, g)
        if g not in MODULE_GROUPS:
            raise ScopeError(
                f'lottery.groups: unknown module group {g!r}. Valid groups: '
                f'{sorted(MODULE_GROUPS)} (aliases: {GROUP_ALIASES}).')
        out.append(g)
    return out


def group_of(name: str) -> str:
    """The most specific module group a parameter name belongs to (for reports).

    Args:
        name: parameter name.

    Returns:
        str: one of ``backbone_base``, ``backbone_top``, ``neck``, ``rpn``, ``box_head``,
        ``mask_head``, ``keypoint_head`` or ``other``.
    """
    for g in ('backbone_top', 'backbone_base', 'neck', 'rpn', 'box_head', 'mask_head',
              'keypoint_head'):
        if re.search(MODULE_GROUPS[g], name):
            return g
    return 'other'


def select_prunable(model: nn.Module,
                    scope: str = 'paper',
                    groups: Optional[Sequence[str]] = None,
                    include: Optional[Union[str, Sequence[str]]] = None,
                    exclude: Optional[Union[str, Sequence[str]]] = None) -> List[str]:
    """Select the prunable weights of a model.

    The ``paper`` preset is the official code's rule: every conv and fc weight of backbone,
    neck and heads, except 1x1 shortcut (downsample) convs and the final predictors; norm
    layers and biases are never pruned. Frozen weights are included (they count toward the
    global threshold, as in the official code). ``backbone`` is the same rule restricted to
    the backbone; ``all`` takes every conv/fc weight, predictors and shortcuts included.

    Args:
        model: the (unwrapped) model.
        scope: a preset name, one of :data:`PRESETS`.
        groups: optional module groups (:data:`MODULE_GROUPS`) to restrict the preset to.
        include: optional regexes; if given, a name must match one of them.
        exclude: optional regexes; a name matching any of them is dropped.

    Returns:
        list[str]: names of prunable parameters, in ``named_parameters`` order.

    Raises:
        ScopeError: unknown preset/group, invalid regex, or nothing selected.
    """
    if scope not in PRESETS:
        raise ScopeError(f'lottery.scope: unknown preset {scope!r}; valid presets: {PRESETS}.')
    group_res = [re.compile(MODULE_GROUPS[g]) for g in resolve_groups(groups)]
    # The backbone preset is the paper rule intersected with the backbone group.
    backbone_re = re.compile(MODULE_GROUPS['backbone']) if scope == 'backbone' else None
    inc = _compile(include, 'include')
    exc = _compile(exclude, 'exclude')
    skip = [] if scope == 'all' else _compile(PREDICTOR_PATTERNS, 'predictors') + _compile(
        SHORTCUT_PATTERNS, 'shortcuts')

    selected = []
    for mod_name, module in model.named_modules():
        if not isinstance(module, _WEIGHTED_TYPES):
            continue
        weight = getattr(module, 'weight', None)
        if not isinstance(weight, nn.Parameter):
            continue
        name = f'{mod_name}.weight' if mod_name else 'weight'
        if any(p.search(name) for p in skip):
            continue
        if group_res and not any(g.search(name) for g in group_res):
            continue
        if backbone_re is not None and not backbone_re.search(name):
            continue
        if inc and not any(p.search(name) for p in inc):
            continue
        if any(p.search(name) for p in exc):
            continue
        selected.append(name)
    # Keep named_parameters order (and drop shared/tied duplicates).
    order = {n: i for i, (n, _) in enumerate(model.named_parameters())}
    selected = sorted({n for n in selected if n in order}, key=order.__getitem__)
    if not selected:
        raise ScopeError(
            'The pruning scope selects no parameter: '
            f'scope={scope!r}, groups={groups!r}, include={include!r}, exclude={exclude!r}. '
            'Check the patterns against the names printed by '
            '`[n for n, _ in model.named_parameters()]` (conv/linear weights only).')
    return selected
