# Copyright (c) lth_mm authors. All rights reserved.
"""One row of the zoo tables per config: its setting, target and network sparsity, and the
paper's number that anchors it.

The network sparsity of the final round is the fraction of *all* parameters that the
global criterion prunes::

    network sparsity = (N_prunable - round(keep * N_prunable)) / N_total

(``round(keep * N)`` is the number of weights the ticket keeps, as in
``lth_mm.pruning.criteria``; norms, biases, shortcuts and final predictors count in N_total
but are never pruned, so the network sparsity is below the target).
"""
import os.path as osp
import re

from ..paper import no_anchor, zoo_anchor, zoo_figure
from .configs import ModelCache, lottery_settings, memoized_external_bases, zoo_configs


def figure_anchor(stem):
    """The paper item of a VOC C4 config that has no number of its own (a figure's curve,
    or a Table 3 row whose number our notes do not quote), or the no-anchor cell."""
    if '_r18-c4_' not in stem:
        return no_anchor()
    tag = stem.split('_lth-')[1].split('_')[0]
    if tag.endswith('-layerwise'):
        return zoo_figure('layerwise')
    if tag.startswith('iter'):
        return zoo_figure('iterative')
    if tag.endswith('-base-top'):
        return zoo_figure('base_top')
    if re.fullmatch(r'keep20-rw\d+(it)?', tag):
        return zoo_figure('rewind_sweep')
    if re.fullmatch(r'keep(50|10)-rw600it', tag):
        return zoo_figure('global_sweep')
    if tag.startswith('keep20-rw600it-') and not tag.endswith('randctrl'):
        return zoo_figure('table3_row')
    return no_anchor()


def paper_anchor(stem):
    """The "Paper (anchor)" cell of a config: its paper number, else its figure item."""
    return zoo_anchor(stem) or figure_anchor(stem)


def network_sparsity(n_prunable, n_total, keep):
    """Fraction of all parameters pruned when ``keep`` of ``n_prunable`` weights survive."""
    return (n_prunable - int(round(float(keep) * n_prunable))) / n_total


def format_target(keep):
    """Target sparsity of the prunable weights, e.g. ``80%`` (one decimal at most)."""
    return f'{100 * (1 - keep):.1f}'.rstrip('0').rstrip('.') + '%'


def format_network(sparsity):
    """Network sparsity with two decimals, e.g. ``78.40%``."""
    return f'{100 * sparsity:.2f}%'


def _repeat_times(cfg):
    """How often the train dataloader repeats the data (mmdet's VOC: RepeatDataset x3)."""
    ds = cfg.train_dataloader.dataset
    times = 1
    while isinstance(ds, dict) and ds.get('type') == 'RepeatDataset':
        times *= ds.get('times', 1)
        ds = ds.get('dataset')
    return times


def describe_setting(cfg, settings):
    """A short description of the lottery run, e.g. ``one-shot, rewind 1 ep``."""
    ratios = settings.keep_ratios()
    if settings.ticket is None and len(ratios) == 1 and ratios[0] == 1.0:
        return 'dense (1 round)'
    parts = ['one-shot' if settings.rounds == 2 else
             f'iterative, {settings.rounds - 1} prunings']
    if settings.criterion != 'global_magnitude':
        parts.append(settings.criterion)
    if settings.rewind_epochs is not None:
        ep = float(settings.rewind_epochs) * _repeat_times(cfg)
        parts.append('rewind to init' if ep == 0 else f'rewind {ep:.3g} ep')
    else:
        it = settings.rewind_iter or 0
        parts.append('rewind to init' if it == 0 else f'rewind iter {it}')
    if settings.groups:
        parts.append('only ' + ' + '.join(settings.groups))
    if settings.prune_scope != 'paper':
        parts.append(f'scope {settings.prune_scope}')
    if settings.include or settings.exclude:
        parts.append('include/exclude')
    if settings.controls:
        parts.append('+ ' + ', '.join(settings.controls))
    return ', '.join(parts)


def backbone_of(cfg):
    """``R-18`` / ``R-50`` from the config's backbone."""
    bb = cfg.model.get('backbone', {})
    depth = bb.get('depth')
    return f'R-{depth}' if depth else str(bb.get('type', '?'))


def zoo_row(path, cache):
    """One table row (a dict) of a zoo config.

    Args:
        path (str): ``configs/<family>/<name>.py``.
        cache (ModelCache): shared model cache.

    Returns:
        dict: config, family, backbone, setting, keep (final keep ratio), n_prunable,
        n_total, target, network (formatted), network_sparsity (float), paper, ours.
    """
    cfg = cache.config(path)
    settings = lottery_settings(cfg)
    keep = settings.keep_ratios()[-1]
    n_prunable, n_total = cache.counts(cfg, settings.scope_dict)
    ns = network_sparsity(n_prunable, n_total, keep)
    stem = osp.splitext(osp.basename(path))[0]
    return dict(
        config=path, name=stem, family=path.split('/')[-2], backbone=backbone_of(cfg),
        setting=describe_setting(cfg, settings), keep=keep, n_prunable=n_prunable,
        n_total=n_total, target=format_target(keep), network_sparsity=ns,
        network=format_network(ns), paper=paper_anchor(stem), ours='')


def zoo_rows(paths=None, cache=None):
    """Rows of every zoo config (or of ``paths``).

    Args:
        paths (list[str], optional): configs; default: the whole zoo.
        cache (ModelCache, optional): shared model cache.

    Returns:
        list[dict]: one :func:`zoo_row` per config.
    """
    cache = cache or ModelCache()
    with memoized_external_bases():
        return [zoo_row(p, cache) for p in (paths or zoo_configs())]
