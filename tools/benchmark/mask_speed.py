# Copyright (c) lth_mm authors. All rights reserved.
"""Global magnitude masks on R50 Mask R-CNN: lth_mm vs torch.nn.utils.prune.

Both compute the same thing, one global L1 threshold over the ``paper`` scope (41.1M
weights) at keep 0.2, and the masks are checked equal. Runs are interleaved (ours,
torch's, ours, ...) and reported as min and median, because other processes on a shared
CPU shift single timings by +-10%. Peak extra memory of our computation is measured in a
fresh process from the kernel's high-water mark (``/proc/self/status`` VmHWM, reset through
``/proc/self/clear_refs``), against the bytes of the prunable weights.

    python tools/benchmark/mask_speed.py [--repeats 3]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

CONFIG = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'


def _weights(config, seed=0):
    import torch

    from lth_mm.apis import build_model_from_cfg
    from lth_mm.pruning import select_prunable
    sys.path.insert(0, __file__.rsplit('/', 1)[0])
    from compact_size import load_config
    torch.manual_seed(seed)
    model = build_model_from_cfg(load_config(config))
    names = select_prunable(model, scope='paper')
    modules = dict(model.named_modules())
    params = dict(model.named_parameters())
    return model, names, modules, {n: params[n].detach() for n in names}


def _torch_prune(model, names, modules, keep):
    import torch.nn.utils.prune as tprune
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


def peak_memory(config=CONFIG, keep=0.2) -> dict:
    """Run in this process: peak extra RSS of one ``global_magnitude`` call.

    Returns:
        dict: ``extra_bytes``, ``weight_bytes`` and their ratio.
    """
    import gc

    import torch

    from lth_mm.pruning import global_magnitude
    _, names, _, weights = _weights(config)
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


def measure(config=CONFIG, keep=0.2, repeats=3) -> dict:
    """Interleaved timings of both mask computations, equality, and peak memory.

    Returns:
        dict: ``ours_s`` / ``torch_s`` (min, median), ``speedup`` (median ratio and
        min ratio), ``identical``, ``prunable``, ``memory``.
    """
    import torch

    from lth_mm.pruning import global_magnitude
    model, names, modules, weights = _weights(config)
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in weights.items()}
    ours, theirs, identical = [], [], True
    for _ in range(repeats):
        t0 = time.perf_counter()
        a = global_magnitude(weights, ones, keep)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        b = _torch_prune(model, names, modules, keep)
        theirs.append(time.perf_counter() - t0)
        # torch prunes round(amount * N) and keeps the rest; ties may differ in position
        # only, so compare counts and, where the magnitudes are distinct, positions.
        identical &= all(torch.equal(a[n], b[n]) for n in names)
    mem = json.loads(subprocess.run(
        [sys.executable, __file__, '--memory-only', '--config', config, '--keep', str(keep)],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    med_o, med_t = statistics.median(ours), statistics.median(theirs)
    return dict(prunable=sum(w.numel() for w in weights.values()), keep=keep,
                ours_s=dict(min=min(ours), median=med_o),
                torch_s=dict(min=min(theirs), median=med_t),
                speedup=dict(median=med_t / med_o, min=min(theirs) / min(ours)),
                identical=identical, memory=mem, repeats=repeats)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=CONFIG)
    p.add_argument('--keep', type=float, default=0.2)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--threads', type=int, default=None,
                   help='torch intra-op threads (default: torch\'s); 1 is steadier on a '
                   'shared CPU, where spinning OpenMP threads wait on each other')
    p.add_argument('--memory-only', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    if args.memory_only:
        print(json.dumps(peak_memory(args.config, args.keep)))
        return 0
    r = measure(args.config, args.keep, args.repeats)
    print(f"global magnitude masks, {r['prunable']:,} weights, keep {r['keep']}: lth_mm "
          f"min {r['ours_s']['min']:.3f} s median {r['ours_s']['median']:.3f} s; "
          f"torch.nn.utils.prune min {r['torch_s']['min']:.2f} s median "
          f"{r['torch_s']['median']:.2f} s; speed-up {r['speedup']['median']:.1f}x (median), "
          f"{r['speedup']['min']:.1f}x (min); identical masks {r['identical']}; peak extra "
          f"memory {r['memory']['ratio']:.2f}x the prunable weights")
    return 0


if __name__ == '__main__':
    sys.exit(main())
