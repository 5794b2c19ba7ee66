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
"""
import statistics
import time
from functools import partial

from .common import magnitude_masks, min_median, prunable_weights, random_model, ratio_ci

DEFAULT_CONFIG = 'configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py'
VARIANTS = ('plain', 'fused', 'hooks')


def _batches(cfg, count, scale_factor=None):
    """The first ``count`` training batches of a config (its pipeline, no workers)."""
    from mmengine.runner import Runner
    loader_cfg = cfg.train_dataloader.copy()
    if scale_factor:
        for t in loader_cfg['dataset']['pipeline']:
            if t['type'] == 'Resize':
                t['scale_factor'] = scale_factor
    loader_cfg.update(num_workers=0, persistent_workers=False)
    data = []
    for b in Runner.build_dataloader(loader_cfg, seed=0):
        data.append(b)
        if len(data) == count:
            break
    return data, loader_cfg['batch_size']


def _legacy_hooks(params, masks, optimizer):
    """What lth_mm did before: a gradient hook per parameter, a weight multiply after."""
    import torch
    names = [n for n in masks.names() if params[n].requires_grad]
    handles = [params[n].register_hook(partial(torch.mul, other=masks[n])) for n in names]
    weights, ms = [params[n] for n in names], [masks[n] for n in names]

    @torch.no_grad()
    def post(*args):
        torch._foreach_mul_(weights, ms)
    handles.append(optimizer.register_step_post_hook(post))
    return handles


def _kernel_times(enforcer, optim_wrapper, params, names, sync, count):
    """The fused kernels alone: gradient multiply + weight multiply of one step."""
    import torch
    for n in names:
        params[n].grad = torch.ones_like(params[n])
    enforcer.attach(optim_wrapper)
    opt = optim_wrapper.optimizer
    out = []
    with torch.no_grad():
        saved = {n: params[n].detach().clone() for n in names}
        for _ in range(count):
            sync()
            t0 = time.perf_counter()
            enforcer._mask_grads(opt)
            enforcer._after_step(opt, (), {})
            sync()
            out.append(time.perf_counter() - t0)
        for n in names:
            params[n].copy_(saved[n])
    enforcer.close()
    return out


def measure(config=DEFAULT_CONFIG, steps=20, warmup=2, batches=4, keep_ratio=0.2,
            device=None, amp=False, data_config=None, scale_factor=None) -> dict:
    """Interleaved plain / fused / per-parameter-hook training steps.

    Args:
        config (str): the lottery config whose model and optimizer are timed.
        steps (int): timed steps per variant; ``warmup`` more are not timed.
        batches (int): distinct batches cycled.
        keep_ratio (float): keep ratio of the masks.
        device (str, optional): ``cpu`` or ``cuda`` (default: cuda if present).
        amp (bool): an ``AmpOptimWrapper`` (GPU only).
        data_config (str, optional): take the batches from this config.
        scale_factor (float, optional): the data pipeline's Resize scale factor.

    Returns:
        dict: per variant ``{min, median}`` seconds, ``fused_ratio`` and
        ``hooks_ratio`` (median, ci_low, ci_high), ``kernel_s`` and ``kernel_ratio``.
    """
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper

    from lth_mm.engine.optim import MaskEnforcer
    from lth_mm.pruning import LotterySettings
    cfg = Config.fromfile(config)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = random_model(cfg).to(device).train()
    owc = cfg.optim_wrapper.copy()
    if amp:
        owc.update(type='AmpOptimWrapper', loss_scale='dynamic')
    optim_wrapper = build_optim_wrapper(model, owc)
    data, batch_size = _batches(Config.fromfile(data_config) if data_config else cfg,
                                batches, scale_factor)
    scope = LotterySettings.from_dict(cfg.get('lottery')).scope_dict
    masks = magnitude_masks(prunable_weights(model, scope), keep_ratio)
    names, params = masks.names(), dict(model.named_parameters())
    enforcer = MaskEnforcer(model)
    enforcer.set_masks(masks)
    enforcer.apply()
    enforcer.close()

    def sync():
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    def step(i, variant):
        handles = []
        if variant == 'fused':
            enforcer.set_masks(masks)
            enforcer.attach(optim_wrapper)
        elif variant == 'hooks':
            handles = _legacy_hooks(params, masks, optim_wrapper.optimizer)
        sync()
        t0 = time.perf_counter()
        model.train_step(data[i % len(data)], optim_wrapper=optim_wrapper)
        sync()
        dt = time.perf_counter() - t0
        enforcer.close()
        for h in handles:
            h.remove()
        return dt

    times = {v: [] for v in VARIANTS}
    for i in range(warmup + steps):
        for v in VARIANTS[i % 3:] + VARIANTS[:i % 3]:  # rotate who goes first
            dt = step(i, v)
            if i >= warmup:
                times[v].append(dt)
    model.zero_grad()
    enforcer.set_masks(masks)
    kernel = _kernel_times(enforcer, optim_wrapper, params, names, sync, max(steps, 20))
    model.zero_grad()
    out = {v: min_median(t) for v, t in times.items()}
    out.update(
        config=config, data_config=data_config or config, scale_factor=scale_factor,
        input_shape=list(data[0]['inputs'][0].shape), device=device, amp=amp, steps=steps,
        masked_tensors=len(names), masked_weights=masks.numel(), keep_ratio=keep_ratio,
        batch_size=batch_size,
        fused_ratio=ratio_ci(times['plain'], times['fused']),
        hooks_ratio=ratio_ci(times['plain'], times['hooks']),
        min_ratio=min(times['fused']) / min(times['plain']), kernel_s=min_median(kernel),
        kernel_ratio=statistics.median(kernel) / statistics.median(times['plain']))
    return out


def format_result(r):
    """The measurement as printed lines."""
    lines = [f"config: {r['config']} (data: {r['data_config']}, image {r['input_shape']})",
             f"device: {r['device']}{' (amp)' if r['amp'] else ''}, batch {r['batch_size']}, "
             f"{r['steps']} interleaved steps per variant, keep {r['keep_ratio']}, "
             f"{r['masked_tensors']} masked tensors, {r['masked_weights']:,} masked weights"]
    for v in VARIANTS:
        lines.append(f"{v:6s} step: min {1e3 * r[v]['min']:9.2f} ms  median "
                     f"{1e3 * r[v]['median']:9.2f} ms")
    for v in VARIANTS[1:]:
        m, lo, hi = r[f'{v}_ratio']
        lines.append(f'{v}/plain median ratio {m:.4f} (95% CI {lo:.4f}-{hi:.4f})')
    lines.append(f"fused kernels alone: median {1e3 * r['kernel_s']['median']:.3f} ms/step = "
                 f"{100 * r['kernel_ratio']:.3f}% of the plain step")
    return '\n'.join(lines)
