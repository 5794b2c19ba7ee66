# Copyright (c) lth_mm authors. All rights reserved.
"""What lth_mm adds to a resume, against mmengine loading the checkpoint itself.

On resume mmengine loads the checkpoint into the model; lth_mm then loads the round's
ticket, binds the masks to the weights, re-applies them and re-attaches the enforcer.
Both are timed interleaved (random weights, keep 0.2, paper scope) from files in a
temporary directory, and the ticket's size is compared with the checkpoint's.
"""
import os
import tempfile
import time

from .common import R50_MASK_RCNN, min_median, pruned_model


def measure(config=R50_MASK_RCNN, keep=0.2, repeats=5) -> dict:
    """Interleaved timings of checkpoint loading and of lth_mm's mask restore.

    Args:
        config (str): model config (file or ``mmdet::`` path).
        keep (float): keep ratio of the prunable weights.
        repeats (int): timed repetitions of each.

    Returns:
        dict: ``load_s`` and ``masks_s`` (min, median), ``ratio`` (median), file sizes.
    """
    import statistics

    import torch
    from mmengine.runner import load_checkpoint

    from lth_mm.engine.optim import MaskEnforcer
    from lth_mm.pruning import load_ticket, save_ticket
    model, masks = pruned_model(config, keep)
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
            enforcer = MaskEnforcer(model)
            enforcer.set_masks(load_ticket(ticket).masks)
            enforcer.apply()
            enforcer.attach(optim)
            restore.append(time.perf_counter() - t0)
            enforcer.close()
    return dict(load_s=min_median(load), masks_s=min_median(restore),
                ratio=statistics.median(restore) / statistics.median(load),
                repeats=repeats, **sizes)


def format_result(r):
    """The measurement as one printed line."""
    return (f"mmengine load_checkpoint: min {r['load_s']['min']:.3f} s median "
            f"{r['load_s']['median']:.3f} s; lth_mm mask restore: min "
            f"{r['masks_s']['min']:.3f} s median {r['masks_s']['median']:.3f} s; ratio "
            f"{r['ratio']:.3f}; ticket {r['ticket_bytes']:,} bytes = "
            f"{100 * r['ticket_bytes'] / r['checkpoint_bytes']:.1f}% of the checkpoint")
