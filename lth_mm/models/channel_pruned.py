# Copyright (c) lth_mm authors. All rights reserved.
"""Build a physically smaller model from its config and a channel plan.

A structured ticket exported by :func:`lth_mm.export.export_ticket` is saved as a plain
state dict plus Torch-Pruning's pruning history (which channels of which module were
removed), never as pickled modules. This builder, registered in mmengine's ``MODELS``
(found from mmdet, mmpose and mmpretrain configs alike), builds the original model from
its config, traces it once and replays the history, so ``tools/test.py`` and mmdet's
``DetInferencer`` load the exported weights with no code of their own::

    model = dict(type='ChannelPrunedModel', model=dict(type='MaskRCNN', ...),
                 pruning_history=[['backbone.layer1.0.conv1', True, [3, 7, ...]], ...])
"""
from typing import List, Sequence

import torch.nn as nn
from mmengine.registry import MODELS


@MODELS.register_module()
def ChannelPrunedModel(model: dict, pruning_history: Sequence[List]) -> nn.Module:  # noqa: N802
    """Build ``model`` and remove the channels of ``pruning_history``.

    Args:
        model: the original model config.
        pruning_history: ``[module name, out-channel pruning?, indices]`` entries, as
            Torch-Pruning's ``DependencyGraph.pruning_history()`` records them.

    Returns:
        nn.Module: the model with fewer channels (its class is the original one).
    """
    from ..pruning.channels import trace_graph
    from ..pruning.predictors import state_kept
    from ..pruning.probe import probe_forwards
    net = MODELS.build(model)
    if pruning_history:
        with state_kept(net):
            forwards, _ = probe_forwards(net)
            graph = trace_graph(net, forwards.get('loss', forwards['tensor']))
        graph.load_pruning_history([list(h) for h in pruning_history])
    return net
