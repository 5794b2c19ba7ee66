# Copyright (c) lth_mm authors. All rights reserved.
"""Final predictors by structure: the conv-like layers whose output reaches a model output.

A *final predictor* (the layers the ``paper`` scope leaves dense) is a conv-like layer
(conv, deconv, deformable conv, linear, attention) whose output reaches a model output with
no other conv-like layer in between. The outputs are the union of

* the tensors a ``tensor``-mode forward returns, and
* the loss terms of a ``loss``-mode forward on dummy ground truth,

because tensor mode alone misses predictors that only feed a loss: a two-stage detector's
``_forward`` does not return the RPN's outputs (``rpn_cls`` / ``rpn_reg``), DINO's encoder
branches only feed a detached top-k. Both forwards run once on a dummy batch the model's
own ``data_preprocessor`` prepares (:mod:`.probe`), and the autograd graph of the outputs
is walked backwards: each path stops at the first node a conv-like module produced (forward
hooks record which node each module call made), and that module is a predictor.

Pure PyTorch at import time; building the dummy batch imports mmengine/mmdet/mmpose/
mmpretrain lazily. Where the structure cannot be read (a model of no OpenMMLab family, a
forward that fails on the dummy batch), the name rules of
:data:`~lth_mm.pruning.scope.PREDICTOR_PATTERNS` decide, and the result says so
(:attr:`Predictors.method`; also logged to the ``lth_mm`` logger).
"""
import hashlib
import logging
import random
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn

logger = logging.getLogger('lth_mm')

# fingerprint of a model's structure -> Predictors; rounds rebuild the model, the
# structure (hence the result) stays
_CACHE: 'OrderedDict[str, Predictors]' = OrderedDict()
_CACHE_SIZE = 32


@dataclass
class Predictors:
    """The final predictors of a model and how they were found.

    Args:
        names: parameter names of the predictors' weights, in ``named_parameters`` order.
        method: ``'graph'`` (found from the autograd graph) or ``'names'`` (the name rules,
            because the structure could not be read).
        detail: what was read (the forwards that ran) or why the structure could not be
            read.
        outputs: the number of output tensors whose graph was walked.
    """
    names: List[str]
    method: str
    detail: str = ''
    outputs: int = 0
    modules: List[str] = field(default_factory=list)


def _fingerprint(model: nn.Module) -> str:
    h = hashlib.sha1(type(model).__qualname__.encode())
    for n, p in model.named_parameters():
        h.update(f'{n}:{tuple(p.shape)};'.encode())
    for n, m in model.named_modules():
        h.update(f'{n}:{type(m).__name__};'.encode())
    return h.hexdigest()


def collect_tensors(obj, out: Optional[list] = None, depth: int = 0) -> list:
    """Tensors with an autograd history inside nested outputs (dicts, lists, tuples and
    mmengine data elements such as ``InstanceData``)."""
    out = [] if out is None else out
    if depth > 8:
        return out
    if isinstance(obj, torch.Tensor):
        if obj.grad_fn is not None:
            out.append(obj)
    elif isinstance(obj, dict):
        for v in obj.values():
            collect_tensors(v, out, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            collect_tensors(v, out, depth + 1)
    elif hasattr(obj, 'all_values'):  # mmengine BaseDataElement
        for v in obj.all_values():
            collect_tensors(v, out, depth + 1)
    return out


def first_layers(outputs: List[torch.Tensor], produced_by: Dict) -> List[str]:
    """Walk the autograd graph back from ``outputs``; stop each path at the first node in
    ``produced_by`` (autograd node -> module name) and return those modules' names.

    Args:
        outputs: output tensors (with ``grad_fn``).
        produced_by: the nodes that conv-like module calls produced, by node.

    Returns:
        list[str]: module names, in the order first reached.
    """
    found, seen = [], set()
    stack = [t.grad_fn for t in outputs]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        name = produced_by.get(node)
        if name is not None:
            if name not in found:
                found.append(name)
            continue  # another conv-like layer is "in between" for everything upstream
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
    return found


def _preserved_state(model: nn.Module):
    """Buffers (BN running stats) and RNG streams, to restore after the probe forwards so
    that finding predictors changes neither the model nor the run's random numbers."""
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    rng = (random.getstate(), np.random.get_state(), torch.get_rng_state(),
           torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None)
    return buffers, rng, model.training


def _restore(model: nn.Module, state) -> None:
    buffers, rng, training = state
    with torch.no_grad():
        for n, b in model.named_buffers():
            if n in buffers:
                b.copy_(buffers[n])
    random.setstate(rng[0])
    np.random.set_state(rng[1])
    torch.set_rng_state(rng[2])
    if rng[3] is not None:
        torch.cuda.set_rng_state_all(rng[3])
    model.train(training)


def graph_predictors(model: nn.Module, forwards: Dict[str, Callable[[], object]],
                     conv_like: Dict[str, List[str]]) -> Predictors:
    """Run ``forwards`` with hooks on the conv-like modules and walk their outputs' graphs.

    Args:
        model: the model.
        forwards: name -> a callable running one forward and returning its outputs (each
            may raise; it is then left out and named in ``detail``).
        conv_like: module name -> the conv-like weight names it owns; the first listed
            weight of a module reached is its predictor weight (for
            ``nn.MultiheadAttention``: ``out_proj.weight``, the one producing its output).

    Returns:
        Predictors: ``method='graph'``, or ``method='names'`` with an empty ``names`` when
        no forward gave an output (the caller applies the name rules).
    """
    modules = dict(model.named_modules())
    produced_by, handles = {}, []

    def hook(name):
        def _record(_mod, _inp, out):
            t = out[0] if isinstance(out, (tuple, list)) and out else out
            if isinstance(t, torch.Tensor) and t.grad_fn is not None:
                produced_by[t.grad_fn] = name
                # A linear layer on a 3-D input returns a view of its 2-D result; an
                # in-place op on that view (DETR heads: `reg_preds += reference`) rewrites
                # the history through the base (CopySlices), bypassing the view's node.
                if t._base is not None and t._base.grad_fn is not None:
                    produced_by[t._base.grad_fn] = name
        return _record

    for name in conv_like:
        handles.append(modules[name].register_forward_hook(hook(name)))
    outputs, ran, failed = [], [], []
    state = _preserved_state(model)
    # randomness=dict(deterministic=True) (mmengine sets torch's global flag) makes ops
    # without a deterministic CPU kernel raise, e.g. in DINO's loss: the probe only reads the
    # graph, so it runs without the flag, and puts it back afterwards.
    deterministic = (torch.are_deterministic_algorithms_enabled(),
                     torch.is_deterministic_algorithms_warn_only_enabled())
    torch.use_deterministic_algorithms(False)
    replaced = []
    try:
        # The forwards draw (DINO's denoising queries, R-CNN samplers): seed them, so the
        # outputs reached, and so the predictors, never depend on what ran before. The
        # caller's random states come back with the model's in _restore.
        random.seed(0)
        np.random.seed(0)
        torch.manual_seed(0)
        # The model is probed before the Runner initialises it: parameters made with
        # torch.empty (DINO's level_embed) hold garbage, NaN under deterministic mode, and a
        # NaN cost stops DETR's Hungarian matcher. The values do not shape the graph: give
        # such tensors finite ones for the probe and put theirs back afterwards.
        with torch.no_grad():
            for t in list(model.parameters()) + list(model.buffers()):
                if t.is_floating_point() and not torch.isfinite(t).all():
                    replaced.append((t, t.detach().clone()))
                    t.normal_(0, 0.02)
        for what, run in forwards.items():
            try:
                with torch.enable_grad():
                    outs = collect_tensors(run())
            except Exception as e:  # noqa: BLE001  (a probe must not stop a run)
                failed.append(f'{what}: {type(e).__name__}: {str(e)[:160]}')
                continue
            if outs:
                ran.append(f'{what} ({len(outs)} tensors)')
                outputs += outs
        found = first_layers(outputs, produced_by)
    finally:
        for h in handles:
            h.remove()
        with torch.no_grad():
            for t, value in replaced:
                t.copy_(value)
        _restore(model, state)
        torch.use_deterministic_algorithms(deterministic[0], warn_only=deterministic[1])
    detail = 'outputs of ' + ', '.join(ran) if ran else 'no forward gave outputs'
    if failed:
        detail += '; failed: ' + '; '.join(failed)
    if not outputs:
        return Predictors([], 'names', detail)
    order = {n: i for i, (n, _) in enumerate(model.named_parameters())}
    names = sorted({conv_like[m][-1] for m in found}, key=lambda n: order.get(n, 0))
    return Predictors(names, 'graph', detail, len(outputs), found)


def find_predictors(model: nn.Module, conv_like: Dict[str, List[str]],
                    name_rule: Callable[[str], bool]) -> Predictors:
    """The final predictors of ``model``, by structure where it can be read (cached).

    Args:
        model: the (unwrapped) model.
        conv_like: module name -> conv-like weight names it owns (from
            :func:`~lth_mm.pruning.scope.conv_like_weights`).
        name_rule: the fallback: whether a weight name is a predictor by name.

    Returns:
        Predictors: the predictor weights, ``method`` and ``detail``.
    """
    key = _fingerprint(model)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    from .probe import probe_forwards  # lazy: imports the model's codebase
    try:
        forwards, kind = probe_forwards(model)
    except Exception as e:  # noqa: BLE001
        forwards, kind = {}, f'no dummy batch ({type(e).__name__}: {str(e)[:160]})'
    result = graph_predictors(model, forwards, conv_like) if forwards else \
        Predictors([], 'names', kind)
    if result.method == 'names':
        order = [w for ws in conv_like.values() for w in ws]
        result.names = [n for n in order if name_rule(n)]
        logger.warning('[lth_mm] final predictors by NAME rules (the structure could not be '
                       f'read: {result.detail}): {result.names}')
    else:
        result.detail = f'{kind}: {result.detail}'
    _CACHE[key] = result
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


@contextmanager
def state_kept(model: nn.Module):
    """Run probe forwards without changing the model's buffers, mode or random streams.

    Args:
        model: the model; its buffers, training mode and the random streams are restored
            on exit.

    Yields:
        None.
    """
    state = _preserved_state(model)
    try:
        yield
    finally:
        _restore(model, state)
