# Copyright (c) lth_mm authors. All rights reserved.
"""The benchmark suite: every figure side by side with its reference, as a ratio.

Sections (each also a module of this package and a script of tools/benchmark/):

* enforcement overhead vs the plain mmdet training step (R18 Mask R-CNN, quickstart
  config; interleaved steps, min/median, paired ratio with a 95% bootstrap interval, and
  the fused kernels alone);
* global magnitude masks vs ``torch.nn.utils.prune.global_unstructured`` (R50 Mask R-CNN,
  41.1M weights, keep 0.2; identical masks checked; peak extra memory);
* compact ticket size vs the dense fp32 state dict, vs the paper's index + value format
  and vs the entropy bound (R50 Mask R-CNN, keep 0.2; exact round trip checked);
* resume cost: lth_mm's mask restore vs mmengine loading the checkpoint;
* MACs dense vs sparse at keep 0.2: R50 Mask R-CNN, R50 Faster R-CNN, R50 top-down pose;
* inference latency of dense vs the unstructured ticket vs physically smaller channel
  tickets (R50 Mask R-CNN at 800x1333; quick: 400x667), :mod:`.ticket_speed`.

Models use random weights (nothing is downloaded) pruned at keep 0.2 over the ``paper``
scope. Timings are interleaved and reported as min and median: on a shared CPU single
timings move by +-10%. ``quick`` uses fewer repeats and smaller MAC inputs.
"""
import sys
import time
import traceback

from .common import machine, pruned_model

MAC_MODELS = (
    ('Mask R-CNN R50-FPN', 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', (800, 1344)),
    ('Faster R-CNN R50-FPN', 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
     (800, 1344)),
    ('top-down heatmap R50',
     'mmpose::body_2d_keypoint/topdown_heatmap/coco/td-hm_res50_8xb64-210e_coco-256x192.py',
     (256, 192)),
)


def macs(quick: bool) -> dict:
    """Dense and sparse MACs of the three models at keep 0.2.

    Args:
        quick (bool): half the detectors' input size.

    Returns:
        dict: model name -> config, shape, dense/sparse MACs and parameters, uncounted ops.
    """
    from lth_mm.complexity import analyze
    out = {}
    for name, cfg, shape in MAC_MODELS:
        if quick:
            shape = (shape[0] // 2, shape[1] // 2) if shape[0] > 256 else shape
        model, masks = pruned_model(cfg, 0.2)
        c = analyze(model, masks.as_bool(), shape).as_dict()
        out[name] = dict(config=cfg, shape=list(shape), dense_macs=c['dense_macs'],
                         sparse_macs=c['sparse_macs'], mac_ratio=c['mac_ratio'],
                         dense_params=c['dense_params'], sparse_params=c['sparse_params'],
                         uncounted_ops=sorted(c['uncounted_ops']))
    return out


def _section(results, key, fn):
    t0 = time.perf_counter()
    try:
        results[key] = fn()
    except Exception as e:  # one failing section must not hide the others
        traceback.print_exc()
        results[key] = dict(error=f'{type(e).__name__}: {e}')
    print(f'[run_all] {key}: {time.perf_counter() - t0:.0f} s', file=sys.stderr, flush=True)


def run(quick=False) -> dict:
    """Run every section (a failing one is reported, the others still run).

    Args:
        quick (bool): fewer repeats and smaller MAC inputs.

    Returns:
        dict: the raw figures by section, and ``machine``.
    """
    from . import compact_size, enforcement, mask_speed, resume_cost, ticket_speed
    r = dict(machine=machine(), quick=quick)
    _section(r, 'enforcement', lambda: enforcement.measure(
        steps=6 if quick else 20, warmup=1 if quick else 2))
    if not quick:  # the real R18 Mask R-CNN (256-ch FPN, 512 RoIs) on 800 px images
        _section(r, 'enforcement_coco', lambda: enforcement.measure(
            'configs/mask_rcnn/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py', steps=5,
            warmup=1, data_config=enforcement.DEFAULT_CONFIG, scale_factor=6.25))
    _section(r, 'masks', lambda: mask_speed.measure(repeats=2 if quick else 3))
    _section(r, 'compact', compact_size.measure)
    _section(r, 'resume', lambda: resume_cost.measure(repeats=3 if quick else 5))
    _section(r, 'macs', lambda: macs(quick))
    _section(r, 'ticket_speed', lambda: ticket_speed.run(
        ticket_speed.R50_MASK_RCNN, (400, 667) if quick else (800, 1333), (0.5,),
        repeats=2 if quick else 5))
    return r


def table(r: dict) -> str:
    """The side-by-side table: figure, measured, reference, ratio, goal.

    Args:
        r (dict): :func:`run`'s figures.

    Returns:
        str: the table, one row a line.
    """
    rows = [('figure', 'lth_mm', 'reference', 'ratio', 'goal')]
    for key, label in (('enforcement', 'quickstart R18, 128 px'),
                       ('enforcement_coco', 'R18 Mask R-CNN, 800 px')):
        _enforcement_rows(rows, r.get(key, {}), label)
    _other_rows(rows, r)
    widths = [max(len(str(row[i])) for row in rows) for i in range(5)]
    lines = [' | '.join(str(x).ljust(w) for x, w in zip(row, widths)) for row in rows]
    lines.insert(1, '-+-'.join('-' * w for w in widths))
    return '\n'.join(lines)


def _enforcement_rows(rows, e, label):
    if 'fused_ratio' in e:
        m, lo, hi = e['fused_ratio']
        rows.append((f'enforced / plain mmdet step, {label} (median, 95% CI)',
                     f"{1e3 * e['fused']['median']:.0f} ms",
                     f"{1e3 * e['plain']['median']:.0f} ms",
                     f'{m:.4f} [{lo:.4f}, {hi:.4f}]', '<= 1.01'))
        rows.append(('  same, min of steps', f"{1e3 * e['fused']['min']:.0f} ms",
                     f"{1e3 * e['plain']['min']:.0f} ms", f"{e['min_ratio']:.4f}", ''))
        rows.append(('  fused kernels alone / plain step',
                     f"{1e3 * e['kernel_s']['median']:.2f} ms",
                     f"{1e3 * e['plain']['median']:.0f} ms",
                     f"{100 * e['kernel_ratio']:.3f}%", '<= 1%'))
        hm, hlo, hhi = e['hooks_ratio']
        rows.append(('  per-parameter hooks (before) / plain',
                     f"{1e3 * e['hooks']['median']:.0f} ms",
                     f"{1e3 * e['plain']['median']:.0f} ms",
                     f'{hm:.4f} [{hlo:.4f}, {hhi:.4f}]', ''))
        rows.append(('  CUDA / AMP', 'not measured', 'no GPU lent', '-', ''))


def _other_rows(rows, r):
    m = r.get('masks', {})
    if 'speedup' in m:
        rows.append(('global magnitude masks, R50 Mask R-CNN (median)',
                     f"{m['ours_s']['median']:.3f} s", f"{m['torch_s']['median']:.2f} s "
                     '(torch prune)', f"{m['speedup']['median']:.1f}x faster", '>= 15x'))
        rows.append(('  same, min', f"{m['ours_s']['min']:.3f} s",
                     f"{m['torch_s']['min']:.2f} s", f"{m['speedup']['min']:.1f}x", ''))
        rows.append(('  identical masks / peak extra memory',
                     str(m['identical']), f"{m['memory']['weight_bytes'] / 2**20:.0f} MiB "
                     'weights', f"{m['memory']['ratio']:.2f}x", '<= 1.2x'))
    c = r.get('compact', {})
    if 'zstd' in c:
        dense = f"{c['dense_bytes'] / 2**20:.1f} MiB dense"
        for key, label, goal in (('raw', 'bitmask + fp32 values', '<= 29.5%'),
                                 ('zstd', 'bitmask + shuffle/zstd values', '<= 25%'),
                                 ('fp16_zstd', 'fp16 values (lossy)', '<= 20%')):
            rows.append((f'compact ticket, {label}',
                         f"{c[key]['bytes'] / 2**20:.1f} MiB", dense,
                         f"{100 * c[key]['ratio']:.1f}%", goal))
        rows.append(('  exact round trip (raw, zstd) / strict load',
                     f"{c['raw']['round_trip']}, {c['zstd']['round_trip']}", '',
                     str(c.get('strict_load')), ''))
        rows.append(('  paper index+value / entropy bound', '', '',
                     f"{100 * c['paper_index_value_ratio']:.1f}% / "
                     f"{100 * c['entropy_ratio']:.1f}%", ''))
        rows.append(('  zstd file vs entropy bound', '', '',
                     f"{c['zstd']['ratio'] / c['entropy_ratio']:.3f}x", ''))
    s = r.get('resume', {})
    if 'ratio' in s:
        rows.append(('resume: mask restore / mmengine load_checkpoint (median)',
                     f"{s['masks_s']['median']:.3f} s", f"{s['load_s']['median']:.3f} s",
                     f"{s['ratio']:.3f}", ''))
        rows.append(('  ticket file / checkpoint file', f"{s['ticket_bytes'] / 2**20:.1f} MiB",
                     f"{s['checkpoint_bytes'] / 2**20:.1f} MiB",
                     f"{100 * s['ticket_bytes'] / s['checkpoint_bytes']:.1f}%", ''))
    for name, v in (r.get('macs') or {}).items():
        if isinstance(v, dict) and 'mac_ratio' in v:
            rows.append((f"MACs {name} {v['shape'][0]}x{v['shape'][1]}, sparse / dense",
                         f"{v['sparse_macs'] / 1e9:.1f} G", f"{v['dense_macs'] / 1e9:.1f} G",
                         f"{v['mac_ratio']:.3f}", ''))
    t = r.get('ticket_speed', {})
    for row in t.get('rows', [])[1:]:
        rows.append((f"latency {row['name']}, R50 Mask R-CNN {t['size'][0]}x{t['size'][1]}",
                     f"{row['median']:.2f} s", f"{t['rows'][0]['median']:.2f} s dense",
                     f"{row['speedup']:.2f}x faster",
                     '>= 1.5x' if row['name'].startswith('channels') else ''))
    for key in ('enforcement', 'enforcement_coco', 'masks', 'compact', 'resume', 'macs',
                'ticket_speed'):
        if isinstance(r.get(key), dict) and 'error' in r[key]:
            rows.append((f'{key}: FAILED', r[key]['error'][:60], '', '', ''))
