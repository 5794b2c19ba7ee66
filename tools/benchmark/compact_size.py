# Copyright (c) lth_mm authors. All rights reserved.
"""Compact ticket size of R50 Mask R-CNN at keep 0.2 (paper scope), and an exact round trip.

Random weights (no pretrained download), magnitude-pruned globally at ``--keep`` over the
``paper`` scope, then encoded three ways side by side: bitmask + raw fp32 values,
bitmask + byte-shuffled zstd values (the default), and fp16 values; plus the paper's
int32 index + fp32 value format and the entropy bound, all as a fraction of the dense
fp32 state dict.

    python tools/benchmark/compact_size.py [--config mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py]
"""
import argparse
import json
import sys
import time


def measure(config='mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py', keep=0.2, seed=0):
    """Sizes (fractions of dense) of the compact formats, and whether they round-trip.

    Returns:
        dict: figures by name.
    """
    import torch

    from lth_mm.apis import build_model_from_cfg
    from lth_mm.compact import decode, encode
    from lth_mm.pruning import MaskSet, global_magnitude, select_prunable

    torch.manual_seed(seed)
    model = build_model_from_cfg(load_config(config))
    names = select_prunable(model, scope='paper')
    params = dict(model.named_parameters())
    weights = {n: params[n].detach() for n in names}
    masks = MaskSet(global_magnitude(weights, {n: torch.ones_like(w, dtype=torch.bool)
                                               for n, w in weights.items()}, keep))
    masks.apply_(params)
    sd = model.state_dict()
    out = dict(config=config, keep=keep, prunable=masks.numel(), kept=masks.kept())
    bool_masks = masks.as_bool()
    for name, kw in (('raw', dict(zstd_level=None)), ('zstd', dict(zstd_level=3)),
                     ('fp16_zstd', dict(zstd_level=3, fp16=True))):
        t0 = time.perf_counter()
        data, stats = encode(sd, bool_masks, **kw)
        t_enc = time.perf_counter() - t0
        t0 = time.perf_counter()
        back = decode(data, expected=sd)
        t_dec = time.perf_counter() - t0
        if kw.get('fp16'):
            exact = all(torch.equal(back.state_dict[k], v.half().to(v.dtype)
                                    if v.is_floating_point() else v) for k, v in sd.items())
        else:
            exact = all(torch.equal(back.state_dict[k], v) for k, v in sd.items())
        out[name] = dict(ratio=stats.ratio, bytes=stats.compact_bytes, round_trip=exact,
                         encode_s=round(t_enc, 2), decode_s=round(t_dec, 2))
        out['dense_bytes'] = stats.dense_bytes
        if name == 'zstd':
            out['entropy_ratio'] = stats.entropy_bytes / stats.dense_bytes
    # the paper's format: int32 index + fp32 value of each kept weight, dense otherwise
    masked = set(bool_masks)
    paper = sum(8 * int(bool_masks[k].sum()) if k in masked else v.numel() * v.element_size()
                for k, v in sd.items())
    out['paper_index_value_ratio'] = paper / out['dense_bytes']
    out['strict_load'] = _strict_load(model, back.state_dict)
    return out


def load_config(path):
    """A config from a file or an installed package (``mmdet::...``)."""
    from mmengine.config import Config
    if '::' in path:
        from mmengine.hub import get_config
        return get_config(path)
    return Config.fromfile(path)


def _strict_load(model, state_dict) -> bool:
    model.load_state_dict(state_dict, strict=True)
    return True


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py')
    p.add_argument('--keep', type=float, default=0.2)
    p.add_argument('--json', action='store_true', help='print JSON only')
    args = p.parse_args(argv)
    r = measure(args.config, args.keep)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"{args.config} keep {args.keep}: dense fp32 state dict {r['dense_bytes']:,} bytes")
    for name in ('raw', 'zstd', 'fp16_zstd'):
        print(f"  {name:10s} {100 * r[name]['ratio']:5.1f}% of dense  round trip "
              f"{r[name]['round_trip']}  encode {r[name]['encode_s']} s decode "
              f"{r[name]['decode_s']} s")
    print(f"  paper int32 index + fp32 value {100 * r['paper_index_value_ratio']:.1f}%, "
          f"entropy bound {100 * r['entropy_ratio']:.1f}%")
    return 0


if __name__ == '__main__':
    sys.exit(main())
