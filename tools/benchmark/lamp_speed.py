# Copyright (c) lth_mm authors. All rights reserved.
"""LAMP vs global magnitude: mask computation time and layer collapse.

Both criteria prune the ``paper`` scope of a model at keep 0.2 from its initialisation
(``init_weights`` with the config's initialisers, no pretrained weights); runs are
interleaved (global, lamp, global, ...) and reported as min and median, since other
processes on a shared CPU shift single timings. Then, for each criterion, the collapse
report (tensors left under 1% density). Goal (issue "Scope II"): LAMP within 2x of global
magnitude on R50 Mask R-CNN.

    python tools/benchmark/lamp_speed.py [--config mmdet::mask_rcnn/...] [--repeats 5]
        [--collapse-config mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py]
"""
import argparse
import os
import statistics
import sys
import time

SPEED_CONFIG = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
COLLAPSE_CONFIG = 'mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py'


def _weights(config, seed=0):
    """The ``paper``-scope weights of a config's model at its initialisation."""
    import torch

    from lth_mm.apis import build_model_from_cfg
    from lth_mm.pruning import select_prunable
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from compact_size import load_config
    torch.manual_seed(seed)
    model = build_model_from_cfg(load_config(config))
    from mmengine.logging import MMLogger
    log = MMLogger.get_current_instance()
    level = log.level
    log.setLevel('WARNING')  # init_weights reports every parameter at INFO
    try:
        model.init_weights()  # the modules' own initialisers (init_cfg stripped: offline)
    finally:
        log.setLevel(level)
    names = select_prunable(model, scope='paper')
    params = dict(model.named_parameters())
    return {n: params[n].detach() for n in names}


def speed(config=SPEED_CONFIG, keep=0.2, repeats=5) -> dict:
    """Interleaved timings of ``global_magnitude`` and ``lamp`` on one model.

    Returns:
        dict: per criterion ``min`` and ``median`` seconds, and ``ratio`` (lamp / global,
        of the medians), ``params`` (prunable weights).
    """
    import torch

    from lth_mm.pruning import global_magnitude, lamp
    weights = _weights(config)
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    times = {'global_magnitude': [], 'lamp': []}
    fns = {'global_magnitude': global_magnitude, 'lamp': lamp}
    for name, fn in fns.items():  # warm-up: allocator, numpy, first-touch pages
        fn(weights, ones, keep)
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn(weights, ones, keep)
            times[name].append(time.perf_counter() - t)
    out = {n: dict(min=min(t), median=statistics.median(t)) for n, t in times.items()}
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
    weights = _weights(config)
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    return {c: format_collapse(collapsed_tensors(compute_masks(c, weights, ones, keep), floor),
                               floor, limit=100)
            for c in ('global_magnitude', 'lamp')}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--config', default=SPEED_CONFIG)
    p.add_argument('--collapse-config', default=COLLAPSE_CONFIG)
    p.add_argument('--keep', type=float, default=0.2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=1)
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    s = speed(args.config, args.keep, args.repeats)
    print(f'mask computation, {args.config} ({s["params"] / 1e6:.1f}M prunable weights), '
          f'keep {args.keep}, {args.threads} thread(s), {args.repeats} interleaved runs:')
    for c in ('global_magnitude', 'lamp'):
        print(f'  {c:17s} median {s[c]["median"]:.3f} s, min {s[c]["min"]:.3f} s')
    print(f'  lamp / global_magnitude (medians): {s["ratio"]:.2f}x (goal <= 2x)')
    if args.collapse_config:
        print(f'collapse at keep {args.keep}, {args.collapse_config} (initialisation):')
        for c, line in collapse(args.collapse_config, args.keep).items():
            print(f'  {c}: {line}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
