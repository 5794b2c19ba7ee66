# Copyright (c) lth_mm authors. All rights reserved.
"""Global magnitude masks: lth_mm vs ``torch.nn.utils.prune.global_unstructured``.

Both compute the same thing, one global L1 threshold over the ``paper`` scope (41.1M
weights of R50 Mask R-CNN) at keep 0.2, and the masks are checked equal. Runs are
interleaved (ours, torch's, ours, ...) and reported as min and median, because other
processes on a shared CPU shift single timings by +-10%. Peak extra memory of our
computation is measured in a fresh process from the kernel's high-water mark
(``/proc/self/status`` VmHWM, reset through ``/proc/self/clear_refs``), against the bytes
of the prunable weights.
"""
import json
import subprocess
import sys
import time

from .common import R50_MASK_RCNN, min_median, prunable_weights, random_model


def _torch_prune(model, names, keep):
    import torch.nn.utils.prune as tprune
    modules = dict(model.named_modules())
    pairs = [(modules[n.rsplit('.', 1)[0]], n.rsplit('.', 1)[1]) for n in names]
    tprune.global_unstructured(pairs, pruning_method=tprune.L1Unstructured,
                               amount=1.0 - keep)
    masks = {n: getattr(m, a + '_mask').bool().clone() for n, (m, a) in zip(names, pairs)}
    for m, a in pairs:
        tprune.remove(m, a)
    return masks


def _status_kb(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def peak_memory(config=R50_MASK_RCNN, keep=0.2) -> dict:
    """Run in this process: peak extra RSS of one ``global_magnitude`` call.

    Returns:
        dict: ``extra_bytes``, ``weight_bytes`` and their ratio.
    """
    import gc

    import torch

    from lth_mm.pruning import global_magnitude
    model = random_model(config)
    weights = prunable_weights(model)
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    global_magnitude(weights, ones, keep)  # warm up allocator and numpy
    gc.collect()
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')  # reset the peak RSS (VmHWM) to the current RSS
    before = _status_kb('VmRSS')
    masks = global_magnitude(weights, ones, keep)
    extra = (_status_kb('VmHWM') - before) * 1024
    wbytes = sum(w.numel() * w.element_size() for w in weights.values())
    del masks
    return dict(extra_bytes=extra, weight_bytes=wbytes, ratio=extra / wbytes)


def peak_memory_in_subprocess(config=R50_MASK_RCNN, keep=0.2) -> dict:
    """:func:`peak_memory` in a fresh interpreter (this one's high-water mark is taken)."""
    code = ('import json, sys; from lth_mm.benchmark.mask_speed import peak_memory; '
            'print(json.dumps(peak_memory(sys.argv[1], float(sys.argv[2]))))')
    out = subprocess.run([sys.executable, '-c', code, config, str(keep)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(config=R50_MASK_RCNN, keep=0.2, repeats=3) -> dict:
    """Interleaved timings of both mask computations, equality, and peak memory.

    Returns:
        dict: ``ours_s`` / ``torch_s`` (min, median), ``speedup`` (median ratio and
        min ratio), ``identical``, ``prunable``, ``memory``.
    """
    import torch

    from lth_mm.pruning import global_magnitude
    model = random_model(config)
    weights = prunable_weights(model)
    names = list(weights)
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    ours, theirs, identical = [], [], True
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = global_magnitude(weights, ones, keep)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b = _torch_prune(model, names, keep)
        theirs.append(time.perf_counter() - t0)
        identical &= all(torch.equal(a[n], b[n]) for n in names)
    o, t = min_median(ours), min_median(theirs)
    return dict(prunable=sum(w.numel() for w in weights.values()), keep=keep,
                ours_s=o, torch_s=t,
                speedup=dict(median=t['median'] / o['median'], min=t['min'] / o['min']),
                identical=identical, memory=peak_memory_in_subprocess(config, keep),
                repeats=repeats)


def format_result(r):
    """The measurement as one printed line."""
    return (f"global magnitude masks, {r['prunable']:,} weights, keep {r['keep']}: lth_mm "
            f"min {r['ours_s']['min']:.3f} s median {r['ours_s']['median']:.3f} s; "
            f"torch.nn.utils.prune min {r['torch_s']['min']:.2f} s median "
            f"{r['torch_s']['median']:.2f} s; speed-up {r['speedup']['median']:.1f}x "
            f"(median), {r['speedup']['min']:.1f}x (min); identical masks {r['identical']}; "
            f"peak extra memory {r['memory']['ratio']:.2f}x the prunable weights")
