# Copyright (c) lth_mm authors. All rights reserved.
"""What lth_mm adds to a resume, against mmengine loading the checkpoint itself.

On resume mmengine loads the checkpoint into the model; lth_mm then loads the round's
ticket, binds the masks to the weights, re-applies them and re-attaches the enforcer.
Both are timed interleaved on R50 Mask R-CNN (random weights, keep 0.2, paper scope)
from files in a temporary directory, and the ticket's size is compared with the
checkpoint's.

    python tools/benchmark/resume_cost.py [--repeats 5]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

CONFIG = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'


def measure(config=CONFIG, keep=0.2, repeats=5) -> dict:
    """Interleaved timings of checkpoint loading and of lth_mm's mask restore.

    Returns:
        dict: ``load_s`` and ``masks_s`` (min, median), ``ratio`` (median), file sizes.
    """
    import torch
    from mmengine.runner import load_checkpoint

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from compact_size import load_config
    from lth_mm.apis import build_model_from_cfg
    from lth_mm.engine.optim import MaskEnforcer
    from lth_mm.pruning import (MaskSet, global_magnitude, load_ticket, save_ticket,
                                select_prunable)

    torch.manual_seed(0)
    model = build_model_from_cfg(load_config(config))
    names = select_prunable(model, scope='paper')
    params = dict(model.named_parameters())
    w = {n: params[n].detach() for n in names}
    masks = MaskSet(global_magnitude(w, {n: torch.ones_like(t, dtype=torch.bool)
                                         for n, t in w.items()}, keep))
    masks.apply_(params)
    optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    load, restore = [], []
    with tempfile.TemporaryDirectory() as tmp:
        ckpt, ticket = os.path.join(tmp, 'ckpt.pth'), os.path.join(tmp, 'ticket.pth')
        torch.save(dict(meta={}, state_dict=model.state_dict()), ckpt)
        save_ticket(ticket, masks, dict(round=1))
        sizes = dict(checkpoint_bytes=os.path.getsize(ckpt),
                     ticket_bytes=os.path.getsize(ticket))
        for _ in range(repeats):
            t0 = time.perf_counter()
            load_checkpoint(model, ckpt, map_location='cpu', strict=True, logger='silent')
            load.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            restored = load_ticket(ticket).masks
            enforcer = MaskEnforcer(model)
            enforcer.set_masks(restored)
            enforcer.apply()
            enforcer.attach(optim)
            restore.append(time.perf_counter() - t0)
            enforcer.close()
    return dict(load_s=dict(min=min(load), median=statistics.median(load)),
                masks_s=dict(min=min(restore), median=statistics.median(restore)),
                ratio=statistics.median(restore) / statistics.median(load),
                repeats=repeats, **sizes)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=CONFIG)
    p.add_argument('--repeats', type=int, default=5)
    args = p.parse_args(argv)
    r = measure(args.config, repeats=args.repeats)
    print(f"mmengine load_checkpoint: min {r['load_s']['min']:.3f} s median "
          f"{r['load_s']['median']:.3f} s; lth_mm mask restore: min {r['masks_s']['min']:.3f} "
          f"s median {r['masks_s']['median']:.3f} s; ratio {r['ratio']:.3f}; ticket "
          f"{r['ticket_bytes']:,} bytes = {100 * r['ticket_bytes'] / r['checkpoint_bytes']:.1f}"
          f"% of the checkpoint")
    return 0


if __name__ == '__main__':
    sys.exit(main())
