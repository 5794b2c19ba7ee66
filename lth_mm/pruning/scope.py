# Copyright (c) lth_mm authors. All rights reserved.
"""Which parameters are prunable, and why the others are not.

Pure PyTorch (no mmengine). A *scope* turns a model into an ordered list of parameter names
whose weights get a mask. Names are those of ``model.named_parameters()`` on the unwrapped
model (no ``module.`` prefix from DDP).

The rule looks at what a weight *is* before what it is called: every conv-like weight
(``nn.Conv*``, ``nn.Linear``, mmcv's deformable convs and any other module whose class is a
conv, ``nn.MultiheadAttention``'s input projections) is a candidate. The ``paper`` rule
leaves dense: 1x1 convs on a residual shortcut branch; the *final predictors*, found by
structure (:mod:`.predictors`: the conv-like layers whose output reaches a model output
with no other conv-like layer in between; the name rules of :data:`PREDICTOR_PATTERNS`
only where the structure cannot be read); and the *offset generators* of sampling ops
(:func:`is_offset_generator`). :func:`explain_scope` returns the conv-like weights a scope
leaves dense, per reason, so nothing is left dense (or pruned) silently.

Offset generators (mmcv DCN's ``conv_offset``, deformable attention's ``sampling_offsets``
and ``attention_weights``) are predictors of *locations*: their outputs are where a
sampling op reads and with which weights, not features. They are zero-initialised by
design (their bias holds the sampling grid), so after training their magnitudes are tiny
next to any feature layer's and say nothing about importance: global magnitude pruning
removes 100% of DINO's 24 of them at keep 0.2, which freezes every sampling point at its
initial grid. ``paper``, ``paper_voc`` and ``backbone`` keep them dense (1.4% of a
DCN-R50 Faster R-CNN, 2.5% of DINO-R50's weights); ``all`` prunes them. The paper's
R-CNN models have none, so its numbers do not move.
"""
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch.nn as nn

# The name rules of the final predictors (classification, box regression, objectness, mask
# logits and keypoint heatmap logits of mmdet 3.x / mmpose 1.x heads), used only where a
# model's structure cannot be read (see .predictors) and for the VOC 'predictors' group.
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

# The branches that hold a residual block's projection shortcut (mmdet/mmpretrain/
# torchvision ResNets: ``downsample``; some other families: ``shortcut``). Only a *1x1 conv*
# on such a branch is a shortcut: Swin's ``downsample`` (PatchMerging) is a linear layer and
# 3x3 stride-2 downsampling convs are ordinary convs; both are pruned.
SHORTCUT_BRANCHES: Sequence[str] = ('downsample', 'shortcut')

# Module groups, used for the paper's VOC module ablation and for per-group reports.
# Group names map to regexes on parameter names. ``backbone_top`` is the paper's "top"
# (res5): in the C4 Faster R-CNN of the paper's VOC code it runs on RoI features
# (mmdet's ``roi_head.shared_head``); in FPN models it is ``backbone.layer4``.
# ``predictors`` is the official VOC code's "Box, Cls head" group: its pattern catches the
# box classifier and regressor and also the RPN's 1x1 predictors (all four).
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
    'predictors': '|'.join(PREDICTOR_PATTERNS),
}
# Friendly aliases used in the issue tracker / paper wording.
GROUP_ALIASES: Dict[str, str] = {'roi_top': 'backbone_top', 'base': 'backbone_base',
                                 'top': 'backbone_top', 'head': 'keypoint_head',
                                 'box_cls_head': 'predictors'}

# 'paper': the official COCO code's rule (shortcuts and final predictors dense);
# 'paper_voc': the official VOC code's rule (only the shortcuts dense: its module groups
# prune the predictors); 'backbone': 'paper' within the backbone; 'all': every conv-like
# weight.
PRESETS = ('paper', 'paper_voc', 'backbone', 'all')

# Reasons a conv-like weight is left dense (keys of :func:`explain_scope`).
REASONS = OrderedDict([
    ('shortcut', '1x1 projection shortcut conv'),
    ('offset', 'offset / attention-weight generator of a sampling op'),
    ('predictor', 'final predictor'),
    ('outside_backbone', "outside the backbone ('backbone' preset)"),
    ('outside_groups', 'outside lottery.groups'),
    ('not_included', 'matches no lottery.include pattern'),
    ('excluded', 'matches a lottery.exclude pattern'),
    ('not_conv_like', 'a matrix that is no conv/linear weight (embedding, position table)'),
])

# nn.MultiheadAttention keeps its input projections as bare parameters (not a Linear).
_MHA_WEIGHTS = ('in_proj_weight', 'q_proj_weight', 'k_proj_weight', 'v_proj_weight')
# Children of a deformable conv / deformable attention module that generate its sampling
# offsets and attention weights (mmcv's DeformConv2dPack, ModulatedDeformConv2dPack,
# MultiScaleDeformableAttention).
OFFSET_CHILDREN = ('conv_offset', 'sampling_offsets', 'attention_weights')


class ScopeError(ValueError):
    """Raised when a pruning scope is invalid or selects no parameter."""


def _as_list(value: Union[None, str, Iterable[str]]) -> List[str]:
    """The value of a lottery key that takes one name/pattern or several, as a list.

    Args:
        value: None, one string, or an iterable of strings.

    Returns:
        list[str]: empty for None, ``[value]`` for a string, else the items.
    """
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _compile(patterns: Union[None, str, Iterable[str]], what: str) -> List[re.Pattern]:
    compiled = []
    for p in _as_list(patterns):
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
    canonical = [GROUP_ALIASES.get(g, g) for g in _as_list(groups)]
    unknown = [g for g in canonical if g not in MODULE_GROUPS]
    if unknown:
        raise ScopeError(
            f'lottery.groups: unknown module group {unknown[0]!r}. Valid groups: '
            f'{sorted(MODULE_GROUPS)} (aliases: {GROUP_ALIASES}).')
    return canonical


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


def _join(prefix: str, attr: str) -> str:
    return f'{prefix}.{attr}' if prefix else attr


def _conv_like(model: nn.Module):
    """``(param name, module name, module, shortcut)`` of every conv-like weight."""
    out = []
    for mod_name, module in model.named_modules():
        attrs = []
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)) or \
                'conv' in type(module).__name__.lower():
            attrs.append('weight')
        if isinstance(module, nn.MultiheadAttention):
            attrs += list(_MHA_WEIGHTS)
        for attr in attrs:
            w = module._parameters.get(attr)
            if not isinstance(w, nn.Parameter) or w.dim() < 2:
                continue
            is_conv = w.dim() > 2 and not isinstance(module, nn.Linear)
            on_branch = any(part in SHORTCUT_BRANCHES for part in mod_name.split('.'))
            shortcut = is_conv and on_branch and all(k == 1 for k in w.shape[2:])
            out.append((_join(mod_name, attr), mod_name, module, shortcut))
    return out


def conv_like_weights(model: nn.Module) -> List[Tuple[str, bool]]:
    """The conv-like weights of a model.

    A weight is conv-like when it is the ``weight`` of an ``nn.Conv*`` / ``nn.Linear``, the
    ``weight`` (2-D or more) of any module whose class name says it is a convolution (mmcv
    ``DeformConv2d``, ``ModulatedDeformConv2d`` and their ``*Pack`` variants, which do not
    subclass ``nn.Conv2d``), or an input projection of ``nn.MultiheadAttention``.

    Args:
        model: the (unwrapped) model.

    Returns:
        list[tuple[str, bool]]: ``(parameter name, is_1x1_shortcut)`` in module order; a
        shortcut is a conv with a 1x1 kernel inside a :data:`SHORTCUT_BRANCHES` module.
    """
    return [(n, sc) for n, _, _, sc in _conv_like(model)]


def is_offset_generator(model: nn.Module, module_name: str) -> bool:
    """Whether a module generates the offsets / attention weights of a sampling op: a
    :data:`OFFSET_CHILDREN` child of a module whose class is deformable (``*Deform*``)."""
    parent, _, child = module_name.rpartition('.')
    if child not in OFFSET_CHILDREN:
        return False
    mod = model.get_submodule(parent) if parent else model
    return 'deform' in type(mod).__name__.lower()


def predictor_info(model: nn.Module):
    """The final predictors of a model by structure (cached per model structure).

    Args:
        model: the (unwrapped) model.

    Returns:
        :class:`~lth_mm.pruning.predictors.Predictors`: ``names`` (predictor weights),
        ``method`` (``'graph'`` or ``'names'``: the fallback) and ``detail``.
    """
    from .predictors import find_predictors
    modules = OrderedDict()
    for name, mod_name, module, _ in _conv_like(model):
        if isinstance(module, nn.MultiheadAttention):
            # its output comes from out_proj (called functionally, not as a module)
            modules[mod_name] = [_join(mod_name, 'out_proj.weight')]
        elif mod_name not in modules:
            modules[mod_name] = [name]
    pats = _compile(PREDICTOR_PATTERNS, 'predictors')
    return find_predictors(model, modules, lambda n: any(p.search(n) for p in pats))


def _scan(model, scope, groups, include, exclude):
    """Selected names and the reasons for every conv-like weight left out."""
    if scope not in PRESETS:
        raise ScopeError(
            f'lottery.prune_scope: unknown preset {scope!r}; valid presets: {PRESETS}.')
    group_res = [re.compile(MODULE_GROUPS[g]) for g in resolve_groups(groups)]
    backbone_re = re.compile(MODULE_GROUPS['backbone']) if scope == 'backbone' else None
    inc = _compile(include, 'include')
    exc = _compile(exclude, 'exclude')
    keep_predictors_dense = scope in ('paper', 'backbone')
    keep_shortcuts_dense = scope != 'all'
    predictors = set(predictor_info(model).names) if keep_predictors_dense else set()

    reasons = OrderedDict((r, []) for r in REASONS)
    order = {n: i for i, (n, _) in enumerate(model.named_parameters())}
    selected, seen = [], set()
    for name, mod_name, _, shortcut in _conv_like(model):
        if name not in order or name in seen:  # shared/tied weights count once
            continue
        seen.add(name)
        if keep_shortcuts_dense and shortcut:
            reason = 'shortcut'
        elif keep_shortcuts_dense and is_offset_generator(model, mod_name):
            reason = 'offset'
        elif name in predictors:
            reason = 'predictor'
        elif backbone_re is not None and not backbone_re.search(name):
            reason = 'outside_backbone'
        elif group_res and not any(g.search(name) for g in group_res):
            reason = 'outside_groups'
        elif inc and not any(p.search(name) for p in inc):
            reason = 'not_included'
        elif any(p.search(name) for p in exc):
            reason = 'excluded'
        else:
            selected.append(name)
            continue
        reasons[reason].append(name)
    # Other matrices (embeddings, position tables, tokens) are never pruned; reported so a
    # weight of an unknown layer type does not go unnoticed.
    for name, p in model.named_parameters():
        if p.dim() >= 2 and name not in seen:
            reasons['not_conv_like'].append(name)
    selected.sort(key=order.__getitem__)
    return selected, reasons


def explain_scope(model: nn.Module,
                  scope: str = 'paper',
                  groups: Optional[Sequence[str]] = None,
                  include: Optional[Union[str, Sequence[str]]] = None,
                  exclude: Optional[Union[str, Sequence[str]]] = None
                  ) -> 'OrderedDict[str, List[str]]':
    """The weights (2-D or more) a scope leaves dense, per reason.

    Takes the arguments of :func:`select_prunable`; does not raise when nothing is
    selected (it explains why).

    Args:
        model: the (unwrapped) model.
        scope, groups, include, exclude: as in :func:`select_prunable`.

    Returns:
        OrderedDict[str, list[str]]: :data:`REASONS` key -> parameter names (every key
        present, lists possibly empty), in ``named_parameters`` order per reason.

    Raises:
        ScopeError: unknown preset/group or invalid regex.
    """
    return _scan(model, scope, groups, include, exclude)[1]


def select_prunable(model: nn.Module,
                    scope: str = 'paper',
                    groups: Optional[Sequence[str]] = None,
                    include: Optional[Union[str, Sequence[str]]] = None,
                    exclude: Optional[Union[str, Sequence[str]]] = None) -> List[str]:
    """Select the prunable weights of a model.

    The ``paper`` preset is the official code's rule: every conv-like weight (see
    :func:`conv_like_weights`: convs, deformable convs, linear layers, attention
    projections) of backbone, neck and heads, except 1x1 shortcut convs and the final
    predictors; norm layers and biases are never pruned. Frozen weights are included (they
    count toward the global threshold, as in the official code). ``paper_voc`` also prunes
    the final predictors (the official VOC code's module groups do); ``backbone`` is
    ``paper`` restricted to the backbone; ``all`` takes every conv-like weight.

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
    selected, _ = _scan(model, scope, groups, include, exclude)
    if not selected:
        raise ScopeError(
            'The pruning scope selects no parameter: '
            f'prune_scope={scope!r}, groups={groups!r}, include={include!r}, '
            f'exclude={exclude!r}. Check the patterns against the names printed by '
            '`[n for n, _ in model.named_parameters()]` (conv/linear weights only), or '
            "use prune_scope='paper_voc' to prune final predictors.")
    return selected
