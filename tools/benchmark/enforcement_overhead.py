# Copyright (c) lth_mm authors. All rights reserved.
"""Per-step cost of mask enforcement, measured side by side with plain training.

Runs the config's real ``model.train_step(data, optim_wrapper)`` (what the Runner calls)
on the same pre-loaded batches, alternating steps with and without lth_mm's enforcement
(gradient masks + post-step weight masks at the given keep ratio), and prints the median
step time of each and their ratio. Data loading is excluded (identical for both).

    python tools/benchmark/enforcement_overhead.py \
        configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py --steps 20
"""
import argparse
import statistics
import sys
import time

from mmengine.config import DictAction


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Mask enforcement overhead per training step.')
    p.add_argument('config', nargs='?',
                   default='configs/quickstart/mask-rcnn_r18_fpn_lth-keep20_synthetic.py')
    p.add_argument('--steps', type=int, default=20, help='timed steps per variant')
    p.add_argument('--warmup', type=int, default=3, help='untimed steps per variant')
    p.add_argument('--batches', type=int, default=4, help='distinct batches to cycle')
    p.add_argument('--keep-ratio', type=float, default=0.2)
    p.add_argument('--device', default=None, help='cpu or cuda (default: cuda if present)')
    p.add_argument('--amp', action='store_true', help='AmpOptimWrapper (GPU only)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.runner import Runner

    from lth_mm.apis import build_model_from_cfg
    from lth_mm.engine.optim import MaskEnforcer
    from lth_mm.pruning import LotterySettings, MaskSet, global_magnitude, select_prunable

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    torch.manual_seed(0)
    model = build_model_from_cfg(cfg).to(device).train()
    owc = cfg.optim_wrapper.copy()
    if args.amp:
        owc['type'] = 'AmpOptimWrapper'
        owc['loss_scale'] = 'dynamic'
    optim_wrapper = build_optim_wrapper(model, owc)

    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg['num_workers'] = 0
    loader_cfg['persistent_workers'] = False
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    batches = []
    for b in loader:
        batches.append(b)
        if len(batches) == args.batches:
            break

    names = select_prunable(model, **LotterySettings.from_dict(cfg.get('lottery')).scope_dict)
    params = dict(model.named_parameters())
    w = {n: params[n].detach() for n in names}
    masks = MaskSet(global_magnitude(w, {n: torch.ones_like(t, dtype=torch.bool)
                                         for n, t in w.items()}, args.keep_ratio))
    enforcer = MaskEnforcer(model)

    def sync():
        if device.startswith('cuda'):
            torch.cuda.synchronize()

    def step(i, enforced):
        if enforced:
            enforcer.set_masks(masks)
            enforcer.attach(optim_wrapper)
        sync()
        t0 = time.perf_counter()
        model.train_step(batches[i % len(batches)], optim_wrapper=optim_wrapper)
        sync()
        dt = time.perf_counter() - t0
        if enforced:
            enforcer.close()
        return dt

    enforcer.set_masks(masks)
    enforcer.apply()
    enforcer.close()
    for i in range(args.warmup):
        step(i, False)
        step(i, True)
    plain, masked = [], []
    for i in range(args.steps):  # alternate so drifts (thermal, caches) hit both alike
        plain.append(step(i, False))
        masked.append(step(i, True))

    # The enforcement kernels alone (post-step multiply), for scale.
    enforcer.set_masks(masks)
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        enforcer._after_step(None, (), {})
    sync()
    kernel = (time.perf_counter() - t0) / args.steps
    enforcer.close()

    mp, mm = statistics.median(plain), statistics.median(masked)
    print(f'config: {args.config}\ndevice: {device}{" (amp)" if args.amp else ""}, '
          f'batch {loader_cfg["batch_size"]}, {args.steps} steps per variant '
          f'(alternating), keep ratio {args.keep_ratio}, {len(names)} masked tensors, '
          f'{masks.numel():,} masked weights')
    print(f'plain training step   : median {1e3 * mp:8.2f} ms  (min {1e3 * min(plain):.2f})')
    print(f'with mask enforcement : median {1e3 * mm:8.2f} ms  (min {1e3 * min(masked):.2f})')
    print(f'ratio (enforced/plain): {mm / mp:.4f}')
    print(f'post-step mask multiply alone: {1e3 * kernel:.3f} ms/step')
    return 0


if __name__ == '__main__':
    sys.exit(main())
