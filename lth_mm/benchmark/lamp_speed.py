# Copyright (c) lth_mm authors. All rights reserved.
"""LAMP vs global magnitude: mask computation time and layer collapse.

Both criteria prune the ``paper`` scope of a model at keep 0.2 from its initialisation
(``init_weights`` with the config's initialisers, no pretrained weights); runs are
interleaved (global, lamp, global, ...) and reported as min and median, since other
processes on a shared CPU shift single timings. Then, for each criterion, the collapse
report (tensors left under 1% density). Goal (issue "Scope II"): LAMP within 2x of global
magnitude on R50 Mask R-CNN.
"""
import time

from .common import R50_MASK_RCNN, min_median, prunable_weights, random_model

COLLAPSE_CONFIG = 'mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py'
CRITERIA = ('global_magnitude', 'lamp')


def initialised_weights(config, seed=0):
    """The ``paper``-scope weights of a config's model after its own ``init_weights``."""
    from mmengine.logging import MMLogger
    model = random_model(config, seed)
    log = MMLogger.get_current_instance()
    level = log.level
    log.setLevel('WARNING')  # init_weights reports every parameter at INFO
    try:
        model.init_weights()  # the modules' own initialisers (init_cfg stripped: offline)
    finally:
        log.setLevel(level)
    return prunable_weights(model)


def speed(config=R50_MASK_RCNN, keep=0.2, repeats=5) -> dict:
    """Interleaved timings of ``global_magnitude`` and ``lamp`` on one model.

    Returns:
        dict: per criterion ``min`` and ``median`` seconds, and ``ratio`` (lamp / global,
        of the medians), ``params`` (prunable weights).
    """
    import torch

    from lth_mm.pruning import global_magnitude, lamp
    weights = initialised_weights(config)
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    fns = dict(zip(CRITERIA, (global_magnitude, lamp)))  # the functions: no registry look-up
    times = {c: [] for c in CRITERIA}
    for fn in fns.values():  # warm-up: allocator, numpy, first-touch pages
        fn(weights, ones, keep)
    for _ in range(repeats):
        for c, fn in fns.items():
            t = time.perf_counter()
            fn(weights, ones, keep)
            times[c].append(time.perf_counter() - t)
    out = {c: min_median(t) for c, t in times.items()}
    out['ratio'] = out['lamp']['median'] / out['global_magnitude']['median']
    out['params'] = sum(w.numel() for w in weights.values())
    return out


def collapse(config=COLLAPSE_CONFIG, keep=0.2, floor=0.01) -> dict:
    """The collapse report of each criterion on one model.

    Returns:
        dict: criterion -> its :func:`~lth_mm.pruning.format_collapse` line.
    """
    import torch

    from lth_mm.pruning import collapsed_tensors, compute_masks, format_collapse
    weights = initialised_weights(config)
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    return {c: format_collapse(collapsed_tensors(compute_masks(c, weights, ones, keep), floor),
                               floor, limit=100)
            for c in CRITERIA}
