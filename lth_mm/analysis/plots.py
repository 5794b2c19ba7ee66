# Copyright (c) lth_mm authors. All rights reserved.
"""The report's figures (matplotlib, Agg backend: no display needed), ready for a paper.

Each function takes plain data (what the report computed), writes one PNG (150 dpi) and one
PDF (vector) beside it, and returns the PNG's path. Every figure has the same width (so the
HTML shows them at one scale), human-readable titles and axis labels with units, AP in
percent, legends outside the axes (they never hide data), and the paper's value as a
dashed grey reference only where the paper gives one for what is drawn.
"""
import functools
import math
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ..report import metric_label, metric_scale  # noqa: E402,F401  (re-exported)

REF_STYLE = dict(color='0.4', linestyle='--', linewidth=1.2)
DPI = 150
WIDTH, HEIGHT = 7.0, 3.8  # inches, every figure (legends outside included)
FORMATS = ('png', 'pdf')


def _default_style(fn):
    """Draw with matplotlib's default style: importing tidecv switches the global style
    to seaborn's, which would restyle (and crop the labels of) every later figure."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with matplotlib.style.context('default'):
            return fn(*args, **kwargs)
    return wrapper


def _save(fig, path: str, layout: bool = True) -> str:
    """Write ``path`` (PNG) and the same figure as PDF beside it; tight bounding box so an
    outside legend is kept, at the common width."""
    fig.set_size_inches(WIDTH, fig.get_size_inches()[1])
    if layout:
        fig.tight_layout()
    stem = osp.splitext(path)[0]
    for fmt in FORMATS:
        fig.savefig(f'{stem}.{fmt}', dpi=DPI, bbox_inches='tight')
    plt.close(fig)
    return path


def _legend_outside(ax, **kw):
    """Legend right of the axes, so it never covers a bar or a curve."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0, **kw)


def _nan0(v):
    return 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else v


@_default_style
def grouped_bars(path: str, title: str, categories: Sequence[str],
                 series: Mapping[str, Sequence[float]], ylabel: str,
                 references: Sequence[tuple] = (), xlabel: str = '') -> str:
    """Bars of several series (dense vs tickets) for each category (error type, size, bin).

    Args:
        path: output PNG (a PDF is written beside it).
        title: figure title.
        categories: x tick labels.
        series: ``{legend label: one value per category}`` (NaN: no bar, marked n/a).
        ylabel: y axis label with its unit.
        references: ``(category index or None, value, label)``: a dashed reference over that
            category's bars only (None: across the figure), e.g. the paper's value.
        xlabel: x axis label.

    Returns:
        str: ``path``.
    """
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT))
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
    for k, value, label in references:
        if k is None:
            ax.axhline(value, label=label, **REF_STYLE)
        else:  # only over the bars it is about
            ax.hlines(value, k - 0.45, k + 0.45, label=label, **REF_STYLE)
    ax.set_xticks(x, categories)
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    _legend_outside(ax)
    ax.grid(axis='y', alpha=0.3)
    return _save(fig, path)


@_default_style
def sparsity_vs_metric(path: str, panels: Mapping[str, Mapping[str, dict]],
                       dense: Mapping[str, Mapping[str, dict]]) -> str:
    """Metric vs network sparsity, one panel per metric, one line per group of runs.

    Args:
        path: output PNG (a PDF is written beside it).
        panels: ``{metric key: {group: {'sparsity': [%], 'mean': [...], 'std': [...],
            'n': [...]}}}``, values already in display units (AP in %).
        dense: ``{metric key: {group: {'mean', 'std', 'n'}}}``: each group's own dense
            round, drawn at 0% sparsity and as a dotted line (band: its spread).

    Returns:
        str: ``path``.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(WIDTH, HEIGHT), squeeze=False)
    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']
    groups = list(dict.fromkeys(g for p in panels.values() for g in p))
    groups += [g for d in dense.values() for g in d if g not in groups]
    xmax = max([s for p in panels.values() for g in p.values() for s in g['sparsity']] +
               [10.0])
    for ax, (metric, by_group) in zip(axes[0], panels.items()):
        for g in groups:
            c = colors[groups.index(g) % len(colors)]
            d = dense.get(metric, {}).get(g)
            pts = by_group.get(g)
            if d is not None:
                ax.axhline(d['mean'], color=c, linestyle=':', linewidth=1)
                if d.get('std'):
                    ax.axhspan(d['mean'] - d['std'], d['mean'] + d['std'], color=c,
                               alpha=0.08)
            xs, ys, es = [], [], []
            if d is not None:
                xs, ys, es = [0.0], [d['mean']], [d.get('std', 0.0)]
            if pts:
                xs, ys, es = xs + pts['sparsity'], ys + pts['mean'], es + pts['std']
            n = max([d['n'] if d else 1] + (pts['n'] if pts else []))
            if xs:
                ax.errorbar(xs, ys, yerr=es, marker='o', capsize=3, color=c,
                            label=g + (f' ({n} seeds)' if n > 1 else ''))
        ax.set_xlim(-0.04 * xmax - 1, xmax * 1.06 + 1)  # dense (0%) always on the plot
        ax.set_xlabel('network sparsity (% of all weights pruned)')
        unit = ' (%)' if metric_scale(metric) == 100 else ''
        ax.set_ylabel(metric_label(metric) + unit)
        ax.set_title(f'{metric_label(metric)} vs sparsity', fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color='0.3', linestyle=':'))
    labels.append('dense (0%), band: ±1 std')
    fig.tight_layout()
    # below the axes and their labels (the saved bounding box grows to hold it)
    fig.legend(handles, labels, fontsize=8, loc='upper center', ncol=min(3, len(labels)),
               bbox_to_anchor=(0.5, 0.0), frameon=False)
    return _save(fig, path, layout=False)


@_default_style
def lines(path: str, title: str, curves: Mapping[str, tuple], xlabel: str, ylabel: str,
          hlines: Sequence[tuple] = (), vlines: Sequence[tuple] = (),
          ylim: Optional[tuple] = None) -> str:
    """Line plot of several curves (convergence, early-bird IoU).

    Args:
        path: output PNG (a PDF is written beside it).
        title: figure title.
        curves: ``{label: (xs, ys)}``.
        xlabel: x axis label with its unit.
        ylabel: y axis label with its unit.
        hlines: ``(y, label)`` reference lines (the paper's values).
        vlines: ``(x, label)`` markers (e.g. the early-bird epoch).
        ylim: optional y range (default: matplotlib's, from the data).

    Returns:
        str: ``path``.
    """
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT))
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
    ax.set_title(title, fontsize=10)
    if ylim:
        ax.set_ylim(*ylim)
    _legend_outside(ax)
    ax.grid(alpha=0.3)
    return _save(fig, path)


@_default_style
def per_layer(path: str, rows: List[dict], overall: float, title: str) -> str:
    """% pruned of each masked tensor in network order, grouped by module (Fig. 2c).

    Args:
        path: output PNG (a PDF is written beside it).
        rows: :func:`lth_mm.analysis.layers.per_layer_stats` rows.
        overall: % of all prunable weights pruned (reference line).
        title: figure title.

    Returns:
        str: ``path``.
    """
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT + 0.6))
    groups: Dict[str, int] = {}
    cmap = plt.get_cmap('tab10')
    for r in rows:
        groups.setdefault(r['group'], len(groups))
    x = np.arange(len(rows))
    ax.bar(x, [r['pruned_pct'] for r in rows], width=0.85,
           color=[cmap(groups[r['group']] % 10) for r in rows])
    for g, i in groups.items():
        ax.bar([0], [0], color=cmap(i % 10), label=g)  # legend entries
    ax.axhline(overall, color='black', linestyle=':', label=f'all prunable ({overall:.1f}%)')
    # the module groups under the axis (where each starts and ends), not bare indices
    spans: List[list] = []
    for i, r in enumerate(rows):
        if spans and spans[-1][0] == r['group']:
            spans[-1][2] = i
        else:
            spans.append([r['group'], i, i])
    for _, a, b in spans[1:]:
        ax.axvline(a - 0.5, color='0.7', linewidth=0.6)
    # every other name one line lower: narrow neighbours (rpn, box_head) never overlap
    ax.set_xticks([(a + b) / 2 for _, a, b in spans],
                  [('\n' if i % 2 else '') + g for i, (g, _, _) in enumerate(spans)],
                  fontsize=8)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f'masked layers in network order ({len(rows)}), by module group')
    ax.set_ylabel('weights pruned (%)')
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    _legend_outside(ax)
    ax.grid(axis='y', alpha=0.3)
    return _save(fig, path)
