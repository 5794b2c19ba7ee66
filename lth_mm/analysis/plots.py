# Copyright (c) lth_mm authors. All rights reserved.
"""The report's figures (matplotlib, Agg backend: no display needed).

Each function takes plain data (what :mod:`lth_mm.analysis.report` computed), writes one PNG
and returns its path. Titles, axis labels with units, legends, and the paper's value as a
dashed grey reference where the paper gives one.
"""
import functools
import math
from typing import Dict, List, Mapping, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

REF_STYLE = dict(color='0.4', linestyle='--', linewidth=1)
DPI = 120


def _default_style(fn):
    """Draw with matplotlib's default style: importing tidecv switches the global style
    to seaborn's, which would restyle (and crop the labels of) every later figure."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with matplotlib.style.context('default'):
            return fn(*args, **kwargs)
    return wrapper


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _nan0(v):
    return 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else v


@_default_style
def grouped_bars(path: str, title: str, categories: Sequence[str],
                 series: Mapping[str, Sequence[float]], ylabel: str,
                 reference: Optional[float] = None, reference_label: str = '',
                 xlabel: str = '') -> str:
    """Bars of several series (dense vs tickets) for each category (error type, size, bin).

    Args:
        path: output PNG.
        title: figure title.
        categories: x tick labels.
        series: ``{legend label: one value per category}`` (NaN: no bar).
        ylabel: y axis label with its unit.
        reference: a horizontal reference value (e.g. the paper's), or None.
        reference_label: its legend label.
        xlabel: x axis label.

    Returns:
        str: ``path``.
    """
    fig, ax = plt.subplots(figsize=(max(6.5, 0.55 * len(categories) * max(1, len(series))
                                        + 2), 4))
    x = np.arange(len(categories))
    width = 0.8 / max(len(series), 1)
    for i, (label, vals) in enumerate(series.items()):
        vals = [float('nan') if v is None else v for v in vals]
        pos = x + (i - (len(series) - 1) / 2) * width
        ax.bar(pos, [_nan0(v) for v in vals], width, label=label)
        for p, v in zip(pos, vals):
            if isinstance(v, float) and math.isnan(v):  # undefined (e.g. dense AP 0)
                ax.annotate('n/a', (p, 0), ha='center', va='bottom', fontsize=7,
                            color='0.4')
    ax.axhline(0, color='black', linewidth=0.6)
    if reference is not None:
        ax.axhline(reference, label=reference_label, **REF_STYLE)
    ax.set_xticks(x, categories)
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis='y', alpha=0.3)
    return _save(fig, path)


@_default_style
def sparsity_vs_metric(path: str, groups: Mapping[str, dict], metric: str,
                       dense: Optional[dict] = None) -> str:
    """Metric vs network sparsity, one line per group of runs (Figs 1, 3).

    Args:
        path: output PNG.
        groups: ``{label: {'sparsity': [%], 'mean': [...], 'std': [...], 'n': [...]}}``
            (points of one group, sorted by sparsity; ``std`` 0 for one seed).
        metric: metric name (y label).
        dense: ``{'mean', 'std'}`` of the dense rounds: a horizontal reference band.

    Returns:
        str: ``path``.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, g in groups.items():
        ax.errorbar(g['sparsity'], g['mean'], yerr=g['std'], marker='o', capsize=3,
                    label=label + (f' (n={max(g["n"])} seeds)' if max(g['n']) > 1 else ''))
    if dense is not None:
        ax.axhline(dense['mean'], color='black', linestyle=':', label='dense (round 0)')
        if dense.get('std'):
            ax.axhspan(dense['mean'] - dense['std'], dense['mean'] + dense['std'],
                       color='black', alpha=0.1)
    ax.set_xlabel('network sparsity (% of all weights pruned)')
    ax.set_ylabel(metric)
    ax.set_title(f'{metric} vs sparsity')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


@_default_style
def lines(path: str, title: str, curves: Mapping[str, tuple], xlabel: str, ylabel: str,
          hlines: Sequence[tuple] = (), vlines: Sequence[tuple] = (),
          ylim: Optional[tuple] = None) -> str:
    """Line plot of several curves (convergence, early-bird IoU).

    Args:
        path: output PNG.
        title: figure title.
        curves: ``{label: (xs, ys)}``.
        xlabel: x axis label with its unit.
        ylabel: y axis label with its unit.
        hlines: ``(y, label)`` reference lines (the paper's values).
        vlines: ``(x, label)`` markers (e.g. the early-bird epoch).
        ylim: optional y range.

    Returns:
        str: ``path``.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (xs, ys) in curves.items():
        ax.plot(xs, ys, marker='o', markersize=3, label=label)
    for y, label in hlines:
        ax.axhline(y, label=label, **REF_STYLE)
    colors = ['tab:red', 'tab:green', 'tab:purple']
    for i, (x, label) in enumerate(vlines):
        ax.axvline(x, color=colors[i % len(colors)], linestyle='-.', linewidth=1, label=label)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs / iterations
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


@_default_style
def per_layer(path: str, rows: List[dict], overall: float, title: str) -> str:
    """% pruned of each masked tensor, coloured by module group (Fig. 2c).

    Args:
        path: output PNG.
        rows: :func:`lth_mm.analysis.layers.per_layer_stats` rows.
        overall: % of all prunable weights pruned (reference line).
        title: figure title.

    Returns:
        str: ``path``.
    """
    fig, ax = plt.subplots(figsize=(max(6, 0.12 * len(rows) + 2), 4))
    groups: Dict[str, int] = {}
    cmap = plt.get_cmap('tab10')
    for r in rows:
        groups.setdefault(r['group'], len(groups))
    x = np.arange(len(rows))
    ax.bar(x, [r['pruned_pct'] for r in rows],
           color=[cmap(groups[r['group']] % 10) for r in rows])
    for g, i in groups.items():
        ax.bar([0], [0], color=cmap(i % 10), label=g)  # legend entries
    ax.axhline(overall, color='black', linestyle=':', label=f'all prunable ({overall:.1f}%)')
    ax.set_xlabel('masked layer index (network order)')
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel('weights pruned (%)')
    ax.set_ylim(0, 105)
    ax.set_title(title)
    # Early layers are pruned least: the upper left corner is free.
    ax.legend(fontsize=7, ncol=2, loc='upper left')
    ax.grid(axis='y', alpha=0.3)
    return _save(fig, path)
