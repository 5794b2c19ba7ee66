# Copyright (c) lth_mm authors. All rights reserved.
"""Channel groups of a model and masks that remove whole channels (PyTorch + Torch-Pruning).

A structured ticket removes whole output channels. A channel is never one tensor's row:
the conv that produces it, its norm's weight and bias, the conv's bias, and the input
slice of every layer that reads it (through additions, concatenations, reshapes) go
together. Finding these couplings is Torch-Pruning's ``DependencyGraph`` (Fang et al.,
DepGraph, CVPR 2023; the maintained ``torch-pruning`` package): it is used here as it is,
with no hand-written dependency tracing. This module adds only what lth_mm needs on top:

* which groups a ticket may prune (:class:`ChannelStructure`, rules below), and
* boolean masks over *every* parameter a pruned channel touches, so the masked model
  computes exactly what the physically smaller model computes: the pruned channel's
  output is exactly zero (weight, bias, norm weight and norm bias masked: a norm's bias
  alone would otherwise leak a constant into the next layer) and its readers' input
  weights are masked too.

Rules (why a group stays dense):

* a producer (an output-channel conv/linear of the group) is outside the prune scope or
  is a predictor (the caller passes them as ``ignored``): predictors keep their outputs;
* ``coupled=False`` (the default): the group has several producers, i.e. channels tied
  by residual additions or FPN's top-down sums. These groups hold ResNet's 1x1 shortcut
  convs, which the paper's analysis keeps in the residual stream; pruning them shrinks
  the stream every stage and FPN read. ``coupled=True`` prunes them too;
* a parameter member is not a plain conv, transposed conv, linear or batch norm (group
  norm and layer norm mix channels in their statistics, so a masked channel would still
  change the others), or a member's indices are not one per channel (channels flattened
  into a fully connected layer, as FPN features through a RoI extractor whose
  ``out_channels`` is baked into the module).

The graph is traced once by running ``forward`` (a callable returning the model's
outputs: lth_mm passes Scope II's probe forwards, which reach the RPN and every head).
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn

Tensor = torch.Tensor
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_T = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_NORM = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


@dataclass
class ChannelGroup:
    """Channels that can only be removed together.

    Args:
        root: module name of the group's first producer (Torch-Pruning's root).
        size: number of channels.
        producers: ``(weight name, member indices, root indices)`` of every output-channel
            conv/linear of the group (what the criteria score).
    """
    root: str
    size: int
    producers: List[Tuple[str, List[int], List[int]]] = field(default_factory=list)


def _depthwise(module: nn.Module) -> bool:
    return isinstance(module, _CONV) and 1 < module.groups == module.in_channels == \
        module.out_channels


def channel_dim(module: nn.Module, out: bool) -> int:
    """The weight dimension that holds a conv/linear's output (or input) channels.

    Args:
        module: a conv, transposed conv or linear layer.
        out: output channels (True) or input channels (False).

    Returns:
        int: 0 or 1 (a depthwise conv has one filter per channel: 0 either way).
    """
    if isinstance(module, _CONV_T):
        return 1 if out else 0
    if _depthwise(module):
        return 0
    return 0 if out else 1


def _member_slices(module: nn.Module, prefix: str, out: bool) -> Optional[List[Tuple[str, int]]]:
    """``(parameter name, dim)`` a pruned channel removes from ``module``, or None when the
    module is of a kind whose channels cannot be masked exactly (see the module doc)."""
    if isinstance(module, _NORM):
        return [(f'{prefix}.{p}', 0) for p in ('weight', 'bias')
                if getattr(module, p, None) is not None]
    if isinstance(module, _CONV + _CONV_T + (nn.Linear,)):
        if getattr(module, 'groups', 1) > 1 and not _depthwise(module):
            return None  # grouped convs (and channel multipliers): channels pair by group
        slices = [(f'{prefix}.weight', channel_dim(module, out))]
        if out and module.bias is not None:
            slices.append((f'{prefix}.bias', 0))
        return slices
    if not list(module.parameters(recurse=False)):
        return []  # parameter-free modules (activations, pools) need no mask
    return None


class ChannelStructure:
    """The prunable channel groups of a model and the masks of a channel selection.

    Args:
        model: the model (its parameters are only read: shapes and names).
        forward: runs the model and returns its outputs (tensors in any nesting); the
            graph is traced through autograd from them.
        prunable: weight names in the prune scope.
        ignored: module names whose output channels must stay (predictors).
        coupled: also prune groups tied by additions (residual streams, FPN sums).
    """

    def __init__(self, model: nn.Module, forward: Callable[[], object],
                 prunable: Iterable[str], ignored: Iterable[str] = (), coupled: bool = False):
        self.model = model
        self.coupled = coupled
        names = {m: n for n, m in model.named_modules()}
        prunable = set(prunable)
        ignored = set(ignored)
        self.graph = trace_graph(model, forward)
        skip = [m for n, m in model.named_modules() if isinstance(m, _CONV + _CONV_T + (
            nn.Linear,)) and (n in ignored or f'{n}.weight' not in prunable)]
        self.groups: List[ChannelGroup] = []
        self.dense: Dict[str, str] = {}  # root -> why it stays dense
        self._roots: Dict[str, Tuple[nn.Module, Callable]] = {}
        for g in self.graph.get_all_groups(ignored_layers=skip,
                                           root_module_types=_CONV + _CONV_T + (nn.Linear,)):
            self._add(g, names)

    def _add(self, g, names) -> None:
        root_mod, handler = g[0].dep.target.module, g[0].dep.handler
        root = names[root_mod]
        size = len(g[0].idxs)
        group = ChannelGroup(root=root, size=size)
        why = None
        for item in g:
            mod, fn = item.dep.target.module, item.dep.handler
            if not isinstance(mod, nn.Module):
                why = 'a bare parameter member'
                break
            out = self.graph.is_out_channel_pruning_fn(fn)
            slices = _member_slices(mod, names.get(mod, '?'), out)
            if slices is None:
                why = f'member {names.get(mod, type(mod).__name__)} ({type(mod).__name__})'
                break
            if slices and len(item.idxs) != size:
                why = f'{names[mod]} reads {len(item.idxs)} inputs for {size} channels'
                break
            # A depthwise conv passes its channels through: a member, not a producer
            # (Torch-Pruning prunes its in- and out-channels with one function).
            if out and isinstance(mod, _CONV + _CONV_T + (nn.Linear,)) and not _depthwise(mod):
                group.producers.append((f'{names[mod]}.weight', [int(i) for i in item.idxs],
                                        [int(i) for i in item.root_idxs]))
        if why is None and not group.producers:
            why = 'no producing conv/linear of its own (a depthwise pass-through)'
        if why is None and not self.coupled and len(group.producers) > 1:
            why = f'{len(group.producers)} producers tied by additions (coupled=False)'
        if why is None and size < 2:
            why = 'a single channel'
        if why is not None:
            self.dense[root] = why
            return
        self.groups.append(group)
        self._roots[root] = (root_mod, handler)

    # ----------------------------------------------------------------- selections
    def alive(self, masks: Mapping[str, Tensor]) -> Dict[str, Tensor]:
        """Which channels of each group a mask set keeps (a channel lives while its root
        producer's output slice has a kept weight).

        Args:
            masks: boolean masks by parameter name (missing names count as dense).

        Returns:
            dict: group root -> boolean tensor of ``size``.
        """
        out = {}
        for g in self.groups:
            name, idxs, roots = g.producers[0]
            alive = torch.ones(g.size, dtype=torch.bool)
            if name in masks:
                m = masks[name]
                dim = channel_dim(self.module_of(name), True)
                rows = m.bool().transpose(0, dim).flatten(1).any(1).cpu()
                alive = torch.zeros(g.size, dtype=torch.bool)
                alive[torch.tensor(roots)] = rows[torch.tensor(idxs)]
            out[g.root] = alive
        return out

    def size_of(self, root: str) -> int:
        """The number of channels of the group rooted at ``root``.

        Args:
            root: a group's root module name.

        Returns:
            int: its channel count.
        """
        return next(g.size for g in self.groups if g.root == root)

    def masks(self, keep: Mapping[str, Tensor],
              only: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
        """Boolean masks of every parameter touched by a group, for a channel selection.

        Args:
            keep: group root -> boolean tensor (True = keep the channel); groups absent
                are kept whole.
            only: the roots of the groups to give masks for (default: all).

        Returns:
            dict[str, Tensor]: masks (CPU, bool) of every member parameter of every group.
        """
        params = dict(self.model.named_parameters())
        names = {m: n for n, m in self.model.named_modules()}
        out: Dict[str, Tensor] = {}
        for g in self.groups:
            if only is not None and g.root not in only:
                continue
            pruned = [] if g.root not in keep else \
                (~keep[g.root].bool()).nonzero().flatten().tolist()
            mod, fn = self._roots[g.root]
            full = self.graph.get_pruning_group(mod, fn, list(range(g.size)))
            for item in full:  # every member gets a mask, pruned or not
                for pname, _ in self._slices(item, names):
                    out.setdefault(pname, torch.ones(params[pname].shape, dtype=torch.bool))
            if not pruned:
                continue
            for item in self.graph.get_pruning_group(mod, fn, pruned):
                for pname, dim in self._slices(item, names):
                    index = torch.tensor([int(i) for i in item.idxs], dtype=torch.long)
                    out[pname].index_fill_(dim, index, False)
        return out

    def _slices(self, item, names) -> List[Tuple[str, int]]:
        mod = item.dep.target.module
        if mod not in names:  # Torch-Pruning's own op nodes (additions, reshapes...)
            return []
        return _member_slices(mod, names[mod], self.graph.is_out_channel_pruning_fn(
            item.dep.handler))

    def module_of(self, weight_name: str) -> nn.Module:
        """The module that owns a parameter (``'a.b.weight'`` -> module ``a.b``).

        Args:
            weight_name: a parameter name of the model.

        Returns:
            nn.Module: its module.
        """
        return self.model.get_submodule(weight_name.rsplit('.', 1)[0])

    def remove(self, channels: Mapping[str, Sequence[int]]) -> List[List]:
        """Remove channels from the model for real (Torch-Pruning shrinks every member).

        Args:
            channels: group root -> channel indices (e.g. :func:`removable_channels`).

        Returns:
            list: the graph's pruning history (``[module, out-channel?, indices]``), which
            :func:`lth_mm.models.channel_pruned.ChannelPrunedModel` replays on a new model.
        """
        for root, idxs in channels.items():
            mod, fn = self._roots[root]
            self.graph.get_pruning_group(mod, fn, sorted(int(i) for i in idxs)).prune()
        return [[n, bool(o), [int(i) for i in idxs]]
                for n, o, idxs in self.graph.pruning_history()]

    def describe(self) -> List[str]:
        """One line per group: root, size, and why dense groups stay dense."""
        lines = [f'{g.root}: {g.size} channels, {len(g.producers)} producer(s)'
                 for g in self.groups]
        lines += [f'{root}: dense ({why})' for root, why in sorted(self.dense.items())]
        return lines


def trace_graph(model: nn.Module, forward: Callable[[], object]):
    """Torch-Pruning's dependency graph of ``model``, traced through ``forward``.

    Args:
        model: the model.
        forward: runs the model and returns its outputs (tensors in any nesting).

    Returns:
        torch_pruning.DependencyGraph: the graph (also replays pruning histories).
    """
    import torch_pruning as tp  # imported here: only structured tickets need it
    return tp.DependencyGraph().build_dependency(
        model, example_inputs=None, forward_fn=lambda _m, _x: _as_scalar(forward()))


def removable_channels(structure: 'ChannelStructure', masks: Mapping[str, Tensor]
                       ) -> Dict[str, List[int]]:
    """Channels a masked model can lose without changing its outputs: every parameter
    slice of the channel (filters, biases, norm weight and bias, readers' inputs) is
    masked. An unstructured ticket's dead filter whose norm bias lives is not removable.

    Args:
        structure: the model's channel groups (built with ``coupled=True`` to see all).
        masks: boolean masks by parameter name.

    Returns:
        dict: group root -> sorted channel indices to remove (groups with none omitted).
    """
    def masked_everywhere(root, drop):
        keep = torch.ones(structure.size_of(root), dtype=torch.bool)
        keep[drop] = False
        touched = structure.masks({root: keep}, only=[root])
        return all(not bool(masks.get(n, torch.ones_like(m))[~m].any())
                   for n, m in touched.items())

    out = {}
    for root, alive in structure.alive(masks).items():
        candidates = (~alive).nonzero().flatten().tolist()
        members = structure.masks({}, only=[root])
        if not candidates or not all(n in masks for n in members):
            continue  # a member without a mask (an unstructured ticket's norm): none go
        # One check for the whole set (a structured ticket), one a channel otherwise.
        removable = candidates if masked_everywhere(root, candidates) else [
            c for c in candidates if masked_everywhere(root, [c])]
        if len(removable) == alive.numel():  # a collapsed layer: keep one channel (a
            removable = removable[1:]        # zero-width conv would not build)
        if removable:
            out[root] = removable
    return out


def _as_scalar(outputs) -> Tensor:
    """Sum every floating tensor of a (nested) output, so autograd sees all of them."""
    total = None
    stack = [outputs]
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            if o.is_floating_point() and o.requires_grad:
                total = o.sum() if total is None else total + o.sum()
        elif isinstance(o, Mapping):
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
        elif hasattr(o, 'to_dict') or hasattr(o, '__dict__'):
            stack.extend(v for v in vars(o).values() if isinstance(v, (Tensor, list, tuple,
                                                                       Mapping)))
    if total is None:
        raise ValueError('the forward produced no tensor that depends on the parameters')
    return total
