# Copyright (c) lth_mm authors. All rights reserved.
"""Compact ticket size of a model at keep 0.2 (paper scope), and an exact round trip.

Random weights (no pretrained download), magnitude-pruned globally over the ``paper``
scope, then encoded three ways side by side: bitmask + raw fp32 values, bitmask +
byte-shuffled zstd values (the default), and fp16 values; plus the paper's int32 index +
fp32 value format and the entropy bound, all as a fraction of the dense fp32 state dict.
"""
import time

from .common import R50_MASK_RCNN, pruned_model

# name -> lth_mm.compact.encode arguments
FORMATS = (('raw', dict(zstd_level=None)), ('zstd', dict(zstd_level=3)),
           ('fp16_zstd', dict(zstd_level=3, fp16=True)))


def _exact(back, sd, fp16):
    """Whether the decoded state dict is the original (fp16: its values rounded to fp16)."""
    import torch
    if fp16:
        return all(torch.equal(back[k], v.half().to(v.dtype) if v.is_floating_point() else v)
                   for k, v in sd.items())
    return all(torch.equal(back[k], v) for k, v in sd.items())


def measure(config=R50_MASK_RCNN, keep=0.2, seed=0):
    """Sizes (fractions of dense) of the compact formats, and whether they round-trip.

    Args:
        config (str): model config (file or ``mmdet::`` path).
        keep (float): keep ratio of the prunable weights.
        seed (int): seed of the random weights.

    Returns:
        dict: ``dense_bytes``; per format ``ratio``, ``bytes``, ``round_trip``,
        ``encode_s``, ``decode_s``; ``entropy_ratio``, ``paper_index_value_ratio``,
        ``strict_load``.
    """
    from lth_mm.compact import decode, encode
    model, masks = pruned_model(config, keep, seed)
    sd = model.state_dict()
    out = dict(config=config, keep=keep, prunable=masks.numel(), kept=masks.kept())
    bool_masks = masks.as_bool()
    for name, kw in FORMATS:
        t0 = time.perf_counter()
        data, stats = encode(sd, bool_masks, **kw)
        t_enc = time.perf_counter() - t0
        t0 = time.perf_counter()
        back = decode(data, expected=sd)
        t_dec = time.perf_counter() - t0
        out[name] = dict(ratio=stats.ratio, bytes=stats.compact_bytes,
                         round_trip=_exact(back.state_dict, sd, kw.get('fp16', False)),
                         encode_s=round(t_enc, 2), decode_s=round(t_dec, 2))
        out['dense_bytes'] = stats.dense_bytes
        if name == 'zstd':
            out['entropy_ratio'] = stats.entropy_bytes / stats.dense_bytes
    # the paper's format: int32 index + fp32 value of each kept weight, dense otherwise
    paper = sum(8 * int(bool_masks[k].sum()) if k in bool_masks
                else v.numel() * v.element_size() for k, v in sd.items())
    out['paper_index_value_ratio'] = paper / out['dense_bytes']
    model.load_state_dict(back.state_dict, strict=True)  # raises unless it fits exactly
    out['strict_load'] = True
    return out


def format_result(r):
    """The measurement as printed lines."""
    lines = [f"{r['config']} keep {r['keep']}: dense fp32 state dict "
             f"{r['dense_bytes']:,} bytes"]
    for name, _ in FORMATS:
        lines.append(f"  {name:10s} {100 * r[name]['ratio']:5.1f}% of dense  round trip "
                     f"{r[name]['round_trip']}  encode {r[name]['encode_s']} s decode "
                     f"{r[name]['decode_s']} s")
    lines.append(f"  paper int32 index + fp32 value {100 * r['paper_index_value_ratio']:.1f}%, "
                 f"entropy bound {100 * r['entropy_ratio']:.1f}%")
    return '\n'.join(lines)
