# Copyright (c) lth_mm authors. All rights reserved.
"""Export a ticket as a model that mmdet/mmpose/mmpretrain build and run.

A structured ticket becomes a *physically smaller* model: the channels whose every
parameter slice the ticket masks are removed (Torch-Pruning shrinks each member), and the
export is a plain mmengine checkpoint (``model.pth``: a state dict, no pickled modules)
plus a config (``config.py``) whose ``model`` is
``dict(type='ChannelPrunedModel', model=<the original>, pruning_history=[...])``, so that
``tools/test.py config.py model.pth`` and ``DetInferencer(config.py, model.pth)`` work as
for any model. An unstructured ticket removes no channel: it exports with its dense
shapes, and its compact ``.lthc`` file (:mod:`lth_mm.compact`) is what shrinks it on disk.
"""
import os
import os.path as osp
from typing import Optional, Sequence

from . import paths
from .fileio import atomic_torch_save, atomic_write_text


def export_ticket(config: str, checkpoint: str, out_dir: str, ticket: Optional[str] = None,
                  weights: str = 'raw', cfg_options: Optional[Sequence[str]] = None,
                  compact: bool = True) -> dict:
    """Write ``out_dir/{model.pth, config.py[, model.lthc]}`` for a trained ticket.

    Args:
        config: the config the ticket was trained with.
        checkpoint: its trained weights (e.g. ``round_1/final.pth``).
        out_dir: a new or empty directory.
        ticket: the ticket file; default: the masks the checkpoint records.
        weights: ``'raw'`` or ``'ema'`` weights of the checkpoint.
        cfg_options: raw ``--cfg-options`` ``key=value`` tokens.
        compact: also write the compact lossless file of the masked dense weights.

    Returns:
        dict: ``params_before``, ``params_after``, ``channels_removed`` (per group root),
        and the written ``files``.

    Raises:
        FileExistsError: ``out_dir`` holds files (nothing is overwritten).
        FileNotFoundError: no ``config``.
        ValueError: no masks (neither ``ticket`` nor masks in the checkpoint), or a
            checkpoint/ticket that is unreadable, of another kind or another model
            (``CheckpointError``, ``TicketError``).
    """
    from .apis import build_model_from_cfg, load_config
    from .engine.checkpoint_io import checkpoint_weights, read_checkpoint, read_ticket
    from .engine.hooks.ticket_mask_hook import CKPT_KEY
    from .pruning import ChannelStructure, MaskSet, predictor_info
    from .pruning.channels import removable_channels
    from .pruning.predictors import state_kept
    from .pruning.probe import probe_forwards
    # every input is checked before the model is built and before anything is written
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise FileExistsError(f'{out_dir!r} is a file: give a new directory (nothing was '
                              'written).')
    if osp.isdir(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f'{out_dir!r} is not empty: give a new directory '
                              '(nothing was written).')
    if not osp.isfile(config):
        raise FileNotFoundError(f'config {config!r} does not exist; check the path.')
    ckpt = read_checkpoint(checkpoint, 'checkpoint')
    masks = read_ticket(ticket, '--ticket').masks.as_bool() if ticket is not None else None
    cfg = load_config(config, cfg_options)
    for key in ('lottery', 'runner_type'):  # the export is a plain model's config
        cfg.pop(key, None)
    model = build_model_from_cfg(cfg)
    state, _ = checkpoint_weights(ckpt, checkpoint, model.state_dict(), weights)
    if masks is None:
        stored = ckpt.get(CKPT_KEY, {})
        if 'masks' not in stored:
            raise ValueError(f'{checkpoint!r} records no ticket masks: pass the ticket '
                             '(--ticket work_dir/round_R/ticket.pth).')
        masks = MaskSet.from_state_dict(stored['masks']).as_bool()
    misfit = [k for k, m in masks.items() if k not in state or state[k].shape != m.shape]
    if misfit:
        raise ValueError(f'the ticket does not fit the model of {config!r}: {len(misfit)} '
                         f'mask(s) without a weight of that name and shape, e.g. {misfit[:3]}; '
                         'use the ticket of this config\'s run.')
    state = {k: v * masks[k].to(v.dtype) if k in masks else v for k, v in state.items()}
    model.load_state_dict(state)
    params_before = sum(p.numel() for p in model.parameters())
    masked_dense = {k: v.clone() for k, v in model.state_dict().items()}
    ignored = [n.rsplit('.', 1)[0] for n in predictor_info(model).names]
    with state_kept(model):
        forwards, _ = probe_forwards(model)
        structure = ChannelStructure(model, forwards.get('loss', forwards['tensor']),
                                     prunable=list(masks), ignored=ignored, coupled=True)
    removed = removable_channels(structure, masks)
    history = structure.remove(removed)
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    files = {'checkpoint': osp.join(out_dir, paths.EXPORT_CHECKPOINT),
             'config': osp.join(out_dir, paths.EXPORT_CONFIG)}
    meta = dict(lth_mm_export=dict(config=osp.abspath(config), checkpoint=osp.abspath(
        checkpoint), ticket=ticket, weights=weights,
        channels_removed={k: len(v) for k, v in removed.items()}))
    atomic_torch_save(dict(state_dict=model.state_dict(), meta=meta), files['checkpoint'])
    cfg.model = dict(type='ChannelPrunedModel', model=cfg.model, pruning_history=history)
    cfg.load_from = None  # given with the config (tools/test.py CONFIG CHECKPOINT)
    atomic_write_text(cfg.pretty_text, files['config'])
    if compact:
        from .compact import save_compact
        files['compact'] = osp.join(out_dir, paths.EXPORT_COMPACT)
        save_compact(files['compact'], masked_dense, {k: v for k, v in masks.items()})
    return dict(params_before=params_before,
                params_after=sum(p.numel() for p in model.parameters()),
                channels_removed={k: len(v) for k, v in removed.items()}, files=files)
