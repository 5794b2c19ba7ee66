# Copyright (c) lth_mm authors. All rights reserved.
"""Dense and effective (sparse) MACs and parameters of a pruned model.

This module owns the MAC count of a ticket. The counting itself is mmengine's
``FlopAnalyzer`` (one fused multiply-add = 1, per module, from a traced forward pass);
what is added here is the sparsity: a masked conv/linear layer does ``density`` of its
dense multiply-adds when the zeros are skipped, so

    effective MACs = dense MACs - sum over masked layers of layer MACs x (1 - density).

That is the count an unstructured-sparse kernel could reach, as the paper's supplementary
Fig. 4 reports it; dense hardware still runs the dense count. Ops the analyzer has no
formula for (mmcv's RoIAlign, NMS, ...) are listed, not guessed. Inputs are built by
:func:`dummy_inputs` for mmdet detectors (``DetDataSample`` meta as mmdet's
``tools/analysis_tools/get_flops.py`` feeds them) and mmpose top-down models.
"""
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Tuple

import torch
import torch.nn as nn

from .pruning.scope import group_of


@dataclass
class Complexity:
    """Dense and effective MACs/parameters, total and per module group.

    Args:
        dense_macs: multiply-adds of the dense model for one input.
        sparse_macs: multiply-adds when every masked layer skips its zeros.
        dense_params: all parameters.
        sparse_params: parameters minus pruned weights.
        groups: ``{group: {'dense_macs', 'sparse_macs', 'dense_params', 'sparse_params'}}``.
        uncounted_ops: ``{op name: calls}`` the analyzer could not count.
        masked_uncounted: masked weights whose module has no counted MACs.
        shape: input (H, W).
    """
    dense_macs: int = 0
    sparse_macs: float = 0.0
    dense_params: int = 0
    sparse_params: int = 0
    groups: Dict[str, Dict[str, float]] = field(default_factory=dict)
    uncounted_ops: Dict[str, int] = field(default_factory=dict)
    masked_uncounted: list = field(default_factory=list)
    shape: Tuple[int, int] = (0, 0)

    def as_dict(self) -> dict:
        """JSON-ready dict (e.g. for the round summary's extras)."""
        return dict(dense_macs=int(self.dense_macs), sparse_macs=int(round(self.sparse_macs)),
                    dense_params=int(self.dense_params),
                    sparse_params=int(self.sparse_params),
                    mac_ratio=self.sparse_macs / max(self.dense_macs, 1),
                    groups=self.groups, uncounted_ops=self.uncounted_ops,
                    masked_uncounted=self.masked_uncounted, shape=list(self.shape))


class _TensorForward(nn.Module):
    """``model._forward(inputs, data_samples)`` as a one-argument module for tracing."""

    def __init__(self, model: nn.Module, data_samples):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs):
        if not hasattr(self.model, '_forward'):  # a plain module
            return self.model(inputs)
        if self.data_samples is None:
            return self.model._forward(inputs)
        return self.model._forward(inputs, self.data_samples)


def dummy_inputs(model: nn.Module, shape: Tuple[int, int]):
    """An input batch of one image and the data samples the model's forward needs.

    Args:
        model: an mmdet detector or an mmpose model (or any module taking one tensor).
        shape: (H, W) of the (already resized and padded) input.

    Returns:
        tuple: ``(inputs tensor, data_samples or None)``.
    """
    h, w = int(shape[0]), int(shape[1])
    param = next(model.parameters())
    # the image channels: what the first convolution takes (3 for mmdet/mmpose models)
    first = next((m for m in model.modules() if isinstance(m, nn.modules.conv._ConvNd)),
                 None)
    channels = first.in_channels if first is not None else 3
    inputs = torch.randn(1, channels, h, w, generator=torch.Generator().manual_seed(0)).to(
        device=param.device, dtype=param.dtype)
    try:
        from mmdet.models.detectors import BaseDetector
        from mmdet.structures import DetDataSample
    except ImportError:  # pragma: no cover - mmdet is part of the environment
        BaseDetector = None
    if BaseDetector is not None and isinstance(model, BaseDetector):
        sample = DetDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
            scale_factor=(1.0, 1.0), img_id=0))
        return inputs, [sample]
    return inputs, None


def analyze(model: nn.Module, masks: Optional[Mapping[str, torch.Tensor]] = None,
            shape: Tuple[int, int] = (800, 1344)) -> Complexity:
    """Count dense and effective MACs/parameters of ``model`` on one dummy input.

    Args:
        model: the model (eval mode is set here; the weights' values do not matter, the
            masks give the densities).
        masks: boolean masks by parameter name (a ticket's masks), or None to take each
            conv/linear weight's non-zeros as its mask (a pruned checkpoint).
        shape: input (H, W); mmdet's get_flops default is (800, 1333) padded to 32.

    Returns:
        Complexity: the counts.
    """
    from mmengine.analysis import FlopAnalyzer
    model.eval()
    params = dict(model.named_parameters())
    modules = dict(model.named_modules())
    if masks is None:  # the zeros of every conv/linear weight
        masks = {f'{n}.weight': (m.weight != 0) for n, m in modules.items()
                 if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear))}
    unknown = [n for n in masks if n not in params]
    if unknown:
        raise ValueError(f'{len(unknown)} masked names are not parameters of the model '
                         f'(e.g. {unknown[:3]}): the masks belong to another model.')
    inputs, samples = dummy_inputs(model, shape)
    wrapped = _TensorForward(model, samples)
    with torch.no_grad():
        analyzer = FlopAnalyzer(wrapped, (inputs, ))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        analyzer.tracer_warnings('none')
        by_module = {k[len('model.'):] if k.startswith('model.') else
                     ('' if k == 'model' else k): v
                     for k, v in analyzer.by_module().items()}
        total = int(analyzer.total())
        uncounted = dict(analyzer.unsupported_ops())

    # each module's own MACs (its count minus its children's) and its group
    own = {}
    for name, mod in modules.items():
        children = [f'{name}.{c}' if name else c for c, _ in mod.named_children()]
        own[name] = by_module.get(name, 0) - sum(by_module.get(c, 0) for c in children)
    groups = defaultdict(lambda: dict(dense_macs=0, sparse_macs=0.0, dense_params=0,
                                      sparse_params=0))
    for name, macs in own.items():
        g = groups[group_of(name + '.') if name else 'other']
        g['dense_macs'] += macs
        g['sparse_macs'] += macs
    saved, masked_uncounted = 0.0, []
    for pname, m in masks.items():
        mod = pname.rsplit('.', 1)[0]
        density = float(m.float().mean())
        macs = own.get(mod, 0)
        if macs == 0:
            masked_uncounted.append(pname)
            continue
        cut = macs * (1.0 - density)
        saved += cut
        groups[group_of(pname)]['sparse_macs'] -= cut
    for pname, p in params.items():
        g = groups[group_of(pname)]
        g['dense_params'] += p.numel()
        g['sparse_params'] += int(masks[pname].sum()) if pname in masks else p.numel()
    dense_params = sum(p.numel() for p in params.values())
    pruned = sum(int(m.numel() - m.sum()) for m in masks.values())
    ordered = OrderedDict((k, groups[k]) for k in sorted(groups) if any(groups[k].values()))
    return Complexity(dense_macs=total, sparse_macs=total - saved, dense_params=dense_params,
                      sparse_params=dense_params - pruned, groups=dict(ordered),
                      uncounted_ops=uncounted, masked_uncounted=masked_uncounted,
                      shape=(int(shape[0]), int(shape[1])))


def format_complexity(c: Complexity) -> str:
    """A table of the counts (G = 1e9 MACs, M = 1e6 parameters)."""
    lines = [f'input {c.shape[0]}x{c.shape[1]}',
             f'{"group":<14}{"dense GMACs":>12}{"sparse GMACs":>14}{"ratio":>8}'
             f'{"dense Mparams":>15}{"sparse Mparams":>16}']

    def row(name, dm, sm, dp, sp):
        return (f'{name:<14}{dm / 1e9:>12.3f}{sm / 1e9:>14.3f}{sm / max(dm, 1):>8.3f}'
                f'{dp / 1e6:>15.3f}{sp / 1e6:>16.3f}')
    for g, v in c.groups.items():
        lines.append(row(g, v['dense_macs'], v['sparse_macs'], v['dense_params'],
                         v['sparse_params']))
    lines.append(row('total', c.dense_macs, c.sparse_macs, c.dense_params, c.sparse_params))
    if c.uncounted_ops:
        lines.append('not counted (no formula in mmengine FlopAnalyzer): ' + ', '.join(
            f'{k} x{v}' for k, v in sorted(c.uncounted_ops.items())))
    if c.masked_uncounted:
        lines.append(f'masked weights in modules with no counted MACs: {c.masked_uncounted}')
    return '\n'.join(lines)
