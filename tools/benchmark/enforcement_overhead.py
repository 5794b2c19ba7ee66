# Copyright (c) lth_mm authors. All rights reserved.
"""Per-step cost of mask enforcement, measured side by side with plain mmdet training.

Runs the config's real ``model.train_step(data, optim_wrapper)`` (what the Runner calls)
on the same pre-loaded batches, cycling three variants step by step so that drifts of a
shared machine hit all alike: plain training, lth_mm's fused enforcement (one
``_foreach_mul_`` on the gradients before the step, one on the weights after it), and the
per-parameter gradient hooks it replaced (for reference). Reports min and median per
variant, the paired median ratio with a bootstrap 95% interval, and the enforcement
kernels timed alone against the plain step: on a CPU the kernels take a few ms against a
step of seconds, well below the step-to-step noise, so the kernel ratio is the precise
figure and the paired ratio checks that nothing else changed. Data loading is excluded.

    python tools/benchmark/enforcement_overhead.py \
        [configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py] --steps 20
"""
import argparse
import random
import statistics
import sys
import time
from functools import partial

DEFAULT_CONFIG = 'configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Mask enforcement overhead per training step.')
    p.add_argument('config', nargs='?', default=DEFAULT_CONFIG)
    p.add_argument('--steps', type=int, default=20, help='timed steps per variant')
    p.add_argument('--warmup', type=int, default=2, help='untimed steps per variant')
    p.add_argument('--batches', type=int, default=4, help='distinct batches to cycle')
    p.add_argument('--keep-ratio', type=float, default=0.2)
    p.add_argument('--device', default=None, help='cpu or cuda (default: cuda if present)')
    p.add_argument('--amp', action='store_true', help='AmpOptimWrapper (GPU only)')
    p.add_argument('--data-config', default=None,
                   help='take the training batches from this config (default: CONFIG), '
                   'e.g. the synthetic quickstart data for a COCO model config')
    p.add_argument('--scale-factor', type=float, default=None,
                   help='override the Resize scale_factor of the data pipeline (6.25 makes '
                   'the 128 px synthetic images 800 px, a COCO-sized step)')
    return p.parse_args(argv)


def _ratio_ci(plain, other, n_boot=2000, seed=0):
    """Median ratio of paired steps and its bootstrap 95% interval."""
    rng = random.Random(seed)
    pairs = list(zip(plain, other))
    stats = []
    for _ in range(n_boot):
        s = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        stats.append(statistics.median(o for _, o in s) / statistics.median(p for p, _ in s))
    stats.sort()
    return (statistics.median(other) / statistics.median(plain),
            stats[int(0.025 * n_boot)], stats[int(0.975 * n_boot) - 1])


def measure(config=DEFAULT_CONFIG, steps=20, warmup=2, batches=4, keep_ratio=0.2,
            device=None, amp=False, data_config=None, scale_factor=None) -> dict:
    """Interleaved plain / fused / per-parameter-hook training steps.

    Returns:
        dict: per variant ``{min, median}`` seconds, ``fused_ratio`` and
        ``hooks_ratio`` (median, ci_low, ci_high), ``kernel_s`` and ``kernel_ratio``.
    """
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    from lth_mm.apis import build_model_from_cfg
    from lth_mm.engine.optim import MaskEnforcer
    from lth_mm.pruning import LotterySettings, MaskSet, global_magnitude, select_prunable

    cfg = Config.fromfile(config)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    torch.manual_seed(0)
    model = build_model_from_cfg(cfg).to(device).train()
    owc = cfg.optim_wrapper.copy()
    if amp:
        owc['type'] = 'AmpOptimWrapper'
        owc['loss_scale'] = 'dynamic'
    optim_wrapper = build_optim_wrapper(model, owc)
    data_cfg = Config.fromfile(data_config) if data_config else cfg
    loader_cfg = data_cfg.train_dataloader.copy()
    if scale_factor:
        for t in loader_cfg['dataset']['pipeline']:
            if t['type'] == 'Resize':
                t['scale_factor'] = scale_factor
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    data = []
    for b in Runner.build_dataloader(loader_cfg, seed=0):
        data.append(b)
        if len(data) == batches:
            break

    names = select_prunable(model, **LotterySettings.from_dict(cfg.get('lottery')).scope_dict)
    params = dict(model.named_parameters())
    w = {n: params[n].detach() for n in names}
    masks = MaskSet(global_magnitude(w, {n: torch.ones_like(t, dtype=torch.bool)
                                         for n, t in w.items()}, keep_ratio))
    enforcer = MaskEnforcer(model)
    enforcer.set_masks(masks)
    enforcer.apply()
    enforcer.close()

    def legacy_on():  # what lth_mm did before: a gradient hook per parameter
        hs = [params[n].register_hook(partial(torch.mul, other=masks[n])) for n in names
              if params[n].requires_grad]
        weights = [params[n] for n in names if params[n].requires_grad]
        ms = [masks[n] for n in names if params[n].requires_grad]

        @torch.no_grad()
        def post(*args):
            torch._foreach_mul_(weights, ms)
        hs.append(optim_wrapper.optimizer.register_step_post_hook(post))
        return hs

    def sync():
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    def step(i, variant):
        handles = []
        if variant == 'fused':
            enforcer.set_masks(masks)
            enforcer.attach(optim_wrapper)
        elif variant == 'hooks':
            handles = legacy_on()
        sync()
        t0 = time.perf_counter()
        model.train_step(data[i % len(data)], optim_wrapper=optim_wrapper)
        sync()
        dt = time.perf_counter() - t0
        enforcer.close()
        for h in handles:
            h.remove()
        return dt

    variants = ('plain', 'fused', 'hooks')
    times = {v: [] for v in variants}
    for i in range(warmup + steps):
        order = variants[i % 3:] + variants[:i % 3]  # rotate who goes first
        for v in order:
            dt = step(i, v)
            if i >= warmup:
                times[v].append(dt)

    # the fused kernels alone: gradient multiply + weight multiply of one step
    model.zero_grad()
    for n in names:
        params[n].grad = torch.ones_like(params[n])
    enforcer.set_masks(masks)
    enforcer.attach(optim_wrapper)
    opt = optim_wrapper.optimizer
    kernel = []
    with torch.no_grad():
        saved = {n: params[n].detach().clone() for n in names}
        for _ in range(max(steps, 20)):
            sync()
            t0 = time.perf_counter()
            enforcer._mask_grads(opt)
            enforcer._after_step(opt, (), {})
            sync()
            kernel.append(time.perf_counter() - t0)
        for n in names:
            params[n].copy_(saved[n])
    enforcer.close()
    model.zero_grad()
    plain_med = statistics.median(times['plain'])
    out = {v: dict(min=min(t), median=statistics.median(t)) for v, t in times.items()}
    out.update(
        config=config, data_config=data_config or config, scale_factor=scale_factor,
        input_shape=list(data[0]['inputs'][0].shape), device=device, amp=amp, steps=steps,
        masked_tensors=len(names),
        masked_weights=masks.numel(), keep_ratio=keep_ratio,
        batch_size=loader_cfg['batch_size'],
        fused_ratio=_ratio_ci(times['plain'], times['fused']),
        hooks_ratio=_ratio_ci(times['plain'], times['hooks']),
        min_ratio=min(times['fused']) / min(times['plain']),
        kernel_s=dict(min=min(kernel), median=statistics.median(kernel)),
        kernel_ratio=statistics.median(kernel) / plain_med)
    return out


def main(argv=None):
    args = parse_args(argv)
    r = measure(args.config, args.steps, args.warmup, args.batches, args.keep_ratio,
                args.device, args.amp, args.data_config, args.scale_factor)
    print(f"config: {r['config']} (data: {r['data_config']}, image {r['input_shape']})\n"
          f"device: {r['device']}{' (amp)' if r['amp'] else ''}, "
          f"batch {r['batch_size']}, {r['steps']} interleaved steps per variant, keep "
          f"{r['keep_ratio']}, {r['masked_tensors']} masked tensors, "
          f"{r['masked_weights']:,} masked weights")
    for v in ('plain', 'fused', 'hooks'):
        print(f"{v:6s} step: min {1e3 * r[v]['min']:9.2f} ms  median "
              f"{1e3 * r[v]['median']:9.2f} ms")
    for v in ('fused', 'hooks'):
        m, lo, hi = r[f'{v}_ratio']
        print(f'{v}/plain median ratio {m:.4f} (95% CI {lo:.4f}-{hi:.4f})')
    print(f"fused kernels alone: median {1e3 * r['kernel_s']['median']:.3f} ms/step = "
          f"{100 * r['kernel_ratio']:.3f}% of the plain step")
    return 0


if __name__ == '__main__':
    sys.exit(main())
