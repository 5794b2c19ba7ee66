# Copyright (c) lth_mm authors. All rights reserved.
"""The pruning scope as a table: every conv-like weight, its kind, pruned or not and why.

``tools/analysis/scope_info.py CONFIG`` prints the full table; :func:`format_scope_short`
is the short form for a run log. Pure PyTorch (the predictor probe imports the model's
codebase lazily).
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import torch.nn as nn

from .scope import REASONS, _conv_like, _scan, is_offset_generator, predictor_info

KINDS = ('conv', 'deconv', 'depthwise', 'grouped', 'linear', 'attention', 'DCN', 'offset')


def weight_kind(model: nn.Module, mod_name: str, module: nn.Module, weight) -> str:
    """What a conv-like weight is, by its module (not by its name).

    Returns:
        str: one of :data:`KINDS`: ``offset`` (offset / attention-weight generator of a
        deformable op), ``DCN`` (deformable conv), ``attention`` (``nn.MultiheadAttention``
        projections, and linear layers inside a module whose class is an attention),
        ``depthwise`` / ``grouped`` convs, ``deconv`` (transposed conv), ``linear`` or
        ``conv``.
    """
    if is_offset_generator(model, mod_name):
        return 'offset'
    cls = type(module).__name__.lower()
    if 'deform' in cls:
        return 'DCN'
    if isinstance(module, nn.MultiheadAttention):
        return 'attention'
    if isinstance(module, nn.Linear) or weight.dim() == 2:
        parts = mod_name.split('.')
        for i in range(len(parts) - 1, 0, -1):  # the closest enclosing modules first
            parent = type(model.get_submodule('.'.join(parts[:i]))).__name__.lower()
            if 'attention' in parent or 'msa' in parent:
                return 'attention'
        return 'linear'
    groups = getattr(module, 'groups', 1)
    if groups > 1:
        depthwise = groups == getattr(module, 'in_channels', -1) and weight.shape[1] == 1
        return 'depthwise' if depthwise else 'grouped'
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return 'deconv'
    return 'conv'


def scope_table(model: nn.Module, scope: str = 'paper',
                groups: Optional[Sequence[str]] = None,
                include: Optional[Union[str, Sequence[str]]] = None,
                exclude: Optional[Union[str, Sequence[str]]] = None) -> dict:
    """Every conv-like weight of a model with its kind and the scope's decision.

    Args:
        model: the (unwrapped) model.
        scope, groups, include, exclude: as in :func:`~lth_mm.pruning.select_prunable`.

    Returns:
        dict: ``rows`` (list of dicts: ``name``, ``kind``, ``shape``, ``numel``,
        ``predictor`` (structurally a final predictor, whatever the scope does with it),
        ``pruned``, ``reason`` (a :data:`~lth_mm.pruning.scope.REASONS` key, or None when
        pruned)), ``prunable_params``, ``network_params``, ``prunable_fraction``,
        ``predictors`` (how they were found: ``method`` and ``detail``).
    """
    selected, reasons = _scan(model, scope, groups, include, exclude)
    info = predictor_info(model)
    why = {n: r for r, names in reasons.items() for n in names}
    params = dict(model.named_parameters())
    rows, seen = [], set()
    for name, mod_name, module, _ in _conv_like(model):
        if name not in params or name in seen:
            continue
        seen.add(name)
        w = params[name]
        rows.append(dict(name=name, kind=weight_kind(model, mod_name, module, w),
                         shape=list(w.shape), numel=w.numel(),
                         predictor=name in info.names, pruned=name not in why,
                         reason=why.get(name)))
    for name in reasons['not_conv_like']:
        w = params[name]
        rows.append(dict(name=name, kind='other', shape=list(w.shape), numel=w.numel(),
                         predictor=False, pruned=False, reason='not_conv_like'))
    total = sum(p.numel() for p in model.parameters())
    prunable = sum(params[n].numel() for n in selected)
    return dict(rows=rows, prunable_params=prunable, network_params=total,
                prunable_fraction=prunable / max(total, 1),
                predictors=dict(method=info.method, detail=info.detail, names=info.names))


def _by_kind(rows: List[dict]) -> Dict[str, Dict[str, int]]:
    out = OrderedDict()
    for r in rows:
        d = out.setdefault(r['kind'], OrderedDict(pruned=0, dense=0, weights_pruned=0))
        d['pruned' if r['pruned'] else 'dense'] += 1
        d['weights_pruned'] += r['numel'] if r['pruned'] else 0
    return out


def format_scope_short(table: dict) -> List[str]:
    """The short form for a run log: the prunable fraction, per kind pruned/dense counts,
    per reason the dense tensors, and how the predictors were found.

    Returns:
        list[str]: log lines.
    """
    rows = table['rows']
    lines = [f"scope: {table['prunable_params']:,} of {table['network_params']:,} parameters "
             f"prunable ({100 * table['prunable_fraction']:.2f}%); by kind: " + ', '.join(
                 f"{k} {d['pruned']} pruned/{d['dense']} dense"
                 for k, d in _by_kind(rows).items())]
    for reason in REASONS:
        names = [r['name'] for r in rows if r['reason'] == reason]
        if names:
            lines.append(f'scope: dense ({REASONS[reason]}): {len(names)} tensors: ' +
                         ', '.join(names[:6]) + (' ...' if len(names) > 6 else ''))
    p = table['predictors']
    lines.append(f"scope: final predictors found by {p['method']} ({p['detail']})")
    return lines


def format_scope_table(table: dict) -> str:
    """The full table as text (one row per weight), then the short form."""
    head = ('name', 'kind', 'shape', 'numel', 'pruned', 'why dense')
    body = [(r['name'], r['kind'] + (' (predictor)' if r['predictor'] else ''),
             'x'.join(map(str, r['shape'])), f"{r['numel']:,}",
             'yes' if r['pruned'] else 'no', REASONS.get(r['reason'], '') if r['reason']
             else '') for r in table['rows']]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = '  '.join(f'{{:{"<" if i != 3 else ">"}{w}}}' for i, w in enumerate(widths))
    lines = [fmt.format(*head), fmt.format(*('-' * w for w in widths))]
    lines += [fmt.format(*row) for row in body]
    return '\n'.join(lines + [''] + format_scope_short(table))
