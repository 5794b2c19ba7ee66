# Copyright (c) lth_mm authors. All rights reserved.
"""End-to-end inference latency of dense, unstructured and structured (channel) tickets.

Every variant is built from the same config and seed (random weights: latency does not
depend on the values), masked by its criterion, and the structured ones are made
physically smaller the way :func:`lth_mm.export.export_ticket` does it. The
post-processing load is fixed (NMS that removes nothing, ``score_thr=0``), so every
variant scores the same number of proposals and detections, which the table shows.
Latency is ``model.test_step`` on one image (batch 1), interleaved across variants, after
warm-up runs that are not counted.
"""
import copy
import io
import statistics
import time
from typing import Dict, List, Sequence

import torch

from .common import (R50_MASK_RCNN, load_config, machine, magnitude_masks, prunable_weights,
                     random_model)

__all__ = ['R50_MASK_RCNN', 'fixed_load', 'build_variants', 'time_variants', 'run', 'table']


def fixed_load(cfg, proposals: int = 1000, detections: int = 100):
    """Make a two-stage detector's test-time work independent of its weights.

    Args:
        cfg: the config (changed in place): RPN keeps ``proposals`` boxes a image and the
            RoI head ``detections``, with NMS that removes nothing and no score threshold.
        proposals, detections: the counts.

    Returns:
        Config: ``cfg``.
    """
    test_cfg = cfg.model.get('test_cfg') or {}
    if 'rpn' in test_cfg:
        test_cfg.rpn.update(nms_pre=proposals, max_per_img=proposals,
                            nms=dict(type='nms', iou_threshold=1.0))
    if 'rcnn' in test_cfg:
        test_cfg.rcnn.update(score_thr=0.0, max_per_img=detections,
                             nms=dict(type='nms', iou_threshold=1.0))
    return cfg


def _image_batch(size):
    g = torch.Generator().manual_seed(0)
    from mmdet.structures import DetDataSample
    h, w = size
    img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
    sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                         scale_factor=(1.0, 1.0), pad_shape=(h, w)))
    return dict(inputs=[img], data_samples=[sample])


def _file_mb(state) -> float:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.tell() / 2**20


def build_variants(config: str, channel_keeps: Sequence[float], unstructured_keep: float,
                   coupled: bool) -> List[dict]:
    """The models to time: dense, the unstructured ticket, structured tickets.

    Args:
        config: config file or ``package::path``.
        channel_keeps: channel keep ratios of the structured tickets.
        unstructured_keep: keep ratio of the unstructured (global magnitude) ticket.
        coupled: also prune channel groups tied by additions (see
            :class:`~lth_mm.pruning.ChannelStructure`).

    Returns:
        list[dict]: ``name``, ``model`` (eval), ``masks``, ``sparsity``.
    """
    from lth_mm.pruning import MaskSet, compute_masks, model_structure
    from lth_mm.pruning.channels import removable_channels
    cfg = fixed_load(load_config(config))
    dense = random_model(cfg).eval()
    total = sum(p.numel() for p in dense.parameters())
    out = [dict(name='dense', model=dense, masks=None, sparsity=0.0)]
    weights = prunable_weights(dense)
    unstructured = copy.deepcopy(dense)
    masks = magnitude_masks(weights, unstructured_keep)
    masks.apply_(dict(unstructured.named_parameters()))
    out.append(dict(name=f'unstructured keep {unstructured_keep:g}', model=unstructured,
                    masks=masks, sparsity=masks.network_sparsity(total)))
    criterion = dict(type='channel_magnitude', coupled=coupled)
    for keep in channel_keeps:
        model = copy.deepcopy(dense)
        w = prunable_weights(model)
        structure = model_structure(model, list(w), criterion)
        ones = {n: torch.ones_like(t, dtype=torch.bool) for n, t in w.items()}
        m = MaskSet(compute_masks(criterion, w, ones, keep, structure=structure))
        m.apply_(dict(model.named_parameters()))
        sparsity = m.network_sparsity(total)
        structure.remove(removable_channels(structure, m.as_bool()))
        out.append(dict(name=f'channels keep {keep:g}', model=model.eval(), masks=None,
                        sparsity=sparsity))
    return out


def time_variants(variants: List[dict], size, repeats: int, warmup: int) -> Dict[str, dict]:
    """Interleaved latency of ``model.test_step`` on one image, and the work done.

    Args:
        variants: from :func:`build_variants`.
        size: input (H, W).
        repeats: timed runs a variant (interleaved).
        warmup: untimed runs a variant first.

    Returns:
        dict: name -> ``times`` (s), ``detections``, ``proposals``.
    """
    results = {v['name']: dict(times=[]) for v in variants}
    with torch.inference_mode():
        for i in range(warmup + repeats):
            for v in variants:
                data = v['model'].data_preprocessor(_image_batch(size), False)
                start = time.perf_counter()
                pred = v['model'](**data, mode='predict')
                elapsed = time.perf_counter() - start
                if i >= warmup:
                    results[v['name']]['times'].append(elapsed)
                results[v['name']]['detections'] = len(pred[0].pred_instances)
    return results


def run(config: str, size=(800, 1333), channel_keeps=(0.75, 0.5, 0.35),
        unstructured_keep: float = 0.2, coupled: bool = True, repeats: int = 5,
        warmup: int = 1) -> dict:
    """Build, measure and describe every variant.

    Args:
        config: config file or ``package::path``.
        size: input (H, W).
        channel_keeps, unstructured_keep, coupled: see :func:`build_variants`.
        repeats, warmup: see :func:`time_variants`.

    Returns:
        dict: ``machine``, ``config``, ``size`` and ``rows`` (one per variant).
    """
    from lth_mm.complexity import analyze
    variants = build_variants(config, channel_keeps, unstructured_keep, coupled)
    timings = time_variants(variants, size, repeats, warmup)
    rows = []
    base = statistics.median(timings['dense']['times'])
    for v in variants:
        t = timings[v['name']]
        c = analyze(v['model'], v['masks'].as_bool() if v['masks'] else None, shape=size)
        state = v['model'].state_dict()
        if v['masks'] is not None:  # the unstructured ticket's disk size is its compact file
            from lth_mm.compact import encode
            mb = len(encode(state, v['masks'].as_bool())[0]) / 2**20
        else:
            mb = _file_mb(state)
        rows.append(dict(name=v['name'], sparsity=v['sparsity'],
                         params=sum(p.numel() for p in v['model'].parameters()),
                         macs=c.sparse_macs if v['masks'] else c.dense_macs,
                         file_mb=mb, median=statistics.median(t['times']),
                         min=min(t['times']), max=max(t['times']),
                         speedup=base / statistics.median(t['times']),
                         detections=t['detections']))
    return dict(machine=machine(), config=config, size=list(size), rows=rows,
                repeats=repeats, warmup=warmup, coupled=coupled)


def table(result: dict) -> str:
    """A markdown table of :func:`run`'s result."""
    dense = result['rows'][0]
    lines = [f"{result['config']} at {result['size'][0]}x{result['size'][1]}, batch 1, "
             f"median of {result['repeats']} interleaved runs (min-max), "
             f"{result['warmup']} warm-up run(s) excluded; coupled groups "
             f"{'pruned' if result['coupled'] else 'dense'}",
             '', '| model | network sparsity | params (M) | MACs (G) | MACs vs dense | '
             'file (MB) | latency s | speed-up | detections |',
             '|---|---|---|---|---|---|---|---|---|']
    for r in result['rows']:
        lines.append(
            f"| {r['name']} | {100 * r['sparsity']:.1f}% | {r['params'] / 1e6:.2f} | "
            f"{r['macs'] / 1e9:.1f} | {100 * r['macs'] / dense['macs']:.0f}% | "
            f"{r['file_mb']:.1f} | {r['median']:.3f} ({r['min']:.3f}-{r['max']:.3f}) | "
            f"{r['speedup']:.2f}x | {r['detections']} |")
    lines.append('')
    lines.append('MACs of the unstructured ticket are the effective count (zeros skipped); '
                 'dense kernels still run the dense count, as its latency shows.')
    return '\n'.join(lines)
