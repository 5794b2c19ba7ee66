# Copyright (c) lth_mm authors. All rights reserved.
"""What ``tools/compress.py`` does: a pruned checkpoint to a compact ``.lthc`` file and back.

The format is :mod:`lth_mm.compact`'s. Every check runs before anything is written, files
are written atomically, and errors exit with a message.
"""
import os.path as osp
import sys
from typing import Optional

from .common import build_model_from_cfg, check_tool_files


def _state_dict_and_meta(ckpt):
    """The state dict and meta of an mmengine checkpoint or of a plain state dict."""
    import torch
    if isinstance(ckpt, dict) and isinstance(ckpt.get('state_dict'), dict):
        return ckpt['state_dict'], dict(ckpt.get('meta') or {})
    if isinstance(ckpt, dict) and ckpt and all(isinstance(v, torch.Tensor)
                                               for v in ckpt.values()):
        return ckpt, {}
    sys.exit('error: the checkpoint holds no state_dict (expected an mmengine checkpoint '
             'or a plain state dict).')


def compress_checkpoint(checkpoint: str, out: str, ticket: Optional[str] = None,
                        fp16: bool = False, zstd_level: Optional[int] = 3,
                        force: bool = False) -> int:
    """Write ``checkpoint`` as a compact file and print its sizes.

    Args:
        checkpoint: an mmengine checkpoint or a plain state dict.
        out: the ``.lthc`` file to write (refused if it exists, unless ``force``).
        ticket: the ticket whose masks define the sparse tensors (default: the
            checkpoint's own zeros).
        fp16: store floating values as float16 (lossy).
        zstd_level: zstd level; None stores the values raw.
        force: overwrite ``out``.

    Returns:
        int: 0.
    """
    from ..compact import CompactError, save_compact
    from ..engine.checkpoint_io import CheckpointError, read_checkpoint, read_ticket
    from ..pruning import TicketError

    check_tool_files(dict(checkpoint=checkpoint, ticket=ticket), out, force)
    loaded_ticket = None
    if ticket:
        try:
            loaded_ticket = read_ticket(ticket, '--ticket')
        except TicketError as e:
            sys.exit(f'error: {e}')
    try:  # the shared reader: truncated files, tickets and compact files named as such
        ckpt = read_checkpoint(checkpoint)
    except CheckpointError as e:
        sys.exit(f'error: {e}')
    state_dict, meta = _state_dict_and_meta(ckpt)
    masks = loaded_ticket.masks.as_bool() if loaded_ticket is not None else None
    try:
        stats = save_compact(out, state_dict, masks, zstd_level=zstd_level, fp16=fp16,
                             meta=meta, progress=True,
                             ticket_meta=loaded_ticket.meta if loaded_ticket else None)
    except CompactError as e:
        sys.exit(f'error: {e}')
    print(f'\n{stats.masked_tensors} tensors as bitmask + values ({stats.kept:,} of '
          f'{stats.masked_numel:,} weights kept); {stats.compact_bytes:,} bytes = '
          f'{100 * stats.ratio:.1f}% of the dense state dict ({stats.dense_bytes:,} bytes); '
          f'entropy bound {100 * stats.entropy_bytes / max(stats.dense_bytes, 1):.1f}%'
          f'{" (fp16, lossy)" if fp16 else ""}\nwritten to {out}')
    return 0


def decompress_checkpoint(compact_file: str, out: str, config: Optional[str] = None,
                          force: bool = False) -> int:
    """Write a compact file back as a plain mmengine checkpoint and print what it holds.

    Args:
        compact_file: the ``.lthc`` file.
        out: the checkpoint to write (refused if it exists, unless ``force``).
        config: check the file fits this config's model and load it there with
            ``strict=True`` before writing.
        force: overwrite ``out``.

    Returns:
        int: 0.
    """
    from ..compact import CompactError, load_compact
    from ..fileio import atomic_torch_save

    check_tool_files({'compact file': compact_file}, out, force)
    expected = model = None
    if config:
        from mmengine.config import Config
        if not osp.isfile(config):
            sys.exit(f'error: config {config!r} does not exist.')
        model = build_model_from_cfg(Config.fromfile(config))
        expected = model.state_dict()
    try:
        compact = load_compact(compact_file, expected=expected)
    except CompactError as e:
        sys.exit(f'error: {e}')
    if model is not None:
        model.load_state_dict(compact.state_dict, strict=True)
    ckpt = dict(meta=compact.header.get('meta') or {}, state_dict=compact.state_dict)
    atomic_torch_save(ckpt, out)
    n = sum(t.numel() for t in compact.state_dict.values())
    print(f'{len(compact.state_dict)} tensors ({n:,} values, {len(compact.masks)} sparse) '
          f'written to {out}' + (' (from fp16 values)' if compact.header.get('fp16') else '')
          + (f'; loaded into {config} with strict=True' if model is not None else ''))
    return 0
