# Copyright (c) lth_mm authors. All rights reserved.
"""The report document (Markdown and HTML from one list of blocks) and shared helpers."""
import base64
import html
import math
import os.path as osp
import re
from typing import List

import numpy as np

from ..paper import report_notes

# Report section -> the paper's finding (lth_mm/data/paper.json).
PAPER = report_notes()
_NUMERIC = re.compile(r'^[-+]?(\d[\d,]*\.?\d*(e[-+]?\d+)?|n/a|-)%?$')
_CODE = re.compile(r'`([^`]+)`')


class Doc:
    """Blocks rendered to Markdown and to HTML (pictures embedded as data URIs).

    Args:
        out_dir: where the figures are written (the report's staging directory).
    """

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.blocks: List[tuple] = []
        self.figures: List[str] = []

    def h(self, text, level=2):
        self.blocks.append(('h', level, text))

    def p(self, text):
        self.blocks.append(('p', text))

    def table(self, header, rows):
        if rows:
            self.blocks.append(('table', [str(h) for h in header],
                                [[fmt(c) for c in r] for r in rows]))

    def img(self, path, caption):
        self.figures.append(path)
        self.blocks.append(('img', osp.basename(path), caption))

    def markdown(self) -> str:
        out = []
        for b in self.blocks:
            if b[0] == 'h':
                out.append('#' * b[1] + ' ' + b[2])
            elif b[0] == 'p':
                out.append(b[1])
            elif b[0] == 'table':
                out.append('| ' + ' | '.join(b[1]) + ' |')
                out.append('|' + ''.join('---:|' if _numeric_col(b[2], i) else '---|'
                                         for i in range(len(b[1]))))
                out.extend('| ' + ' | '.join(r) + ' |' for r in b[2])
            else:
                pdf = osp.splitext(b[1])[0] + '.pdf'
                out.append(f'![{b[2]}]({b[1]})  \n*{b[2]}* ([PDF]({pdf}))')
            out.append('')
        return '\n'.join(out)

    def html(self) -> str:
        def text(s):  # escaped, with Markdown `code` spans as <code>
            return _CODE.sub(r'<code>\1</code>', html.escape(s))
        out = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>lth_mm report'
               '</title><style>body{font-family:sans-serif;max-width:1100px;margin:auto;'
               'padding:0 1em}table{border-collapse:collapse;margin:0.5em 0}'
               'td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}'
               'td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}'
               'figure{margin:1em 0}img{width:100%;max-width:1050px}'
               'figcaption{color:#444;font-size:90%}code{background:#f3f3f3;padding:0 2px}'
               '</style></head><body>']
        for b in self.blocks:
            if b[0] == 'h':
                out.append(f'<h{b[1]}>{text(b[2])}</h{b[1]}>')
            elif b[0] == 'p':
                out.append(f'<p>{text(b[1])}</p>')
            elif b[0] == 'table':
                num = [_numeric_col(b[2], i) for i in range(len(b[1]))]
                cls = [' class="n"' if n else '' for n in num]
                out.append('<table><tr>' + ''.join(f'<th{c}>{text(h)}</th>'
                                                   for c, h in zip(cls, b[1])) + '</tr>')
                out.extend('<tr>' + ''.join(f'<td{c}>{text(v)}</td>' for c, v in zip(cls, r))
                           + '</tr>' for r in b[2])
                out.append('</table>')
            else:
                with open(osp.join(self.out_dir, b[1]), 'rb') as f:
                    data = base64.b64encode(f.read()).decode()
                pdf = osp.splitext(b[1])[0] + '.pdf'
                out.append(f'<figure><img src="data:image/png;base64,{data}" '
                           f'alt="{html.escape(b[2])}"><figcaption>{text(b[2])} '
                           f'(<a href="{pdf}">PDF</a>)</figcaption></figure>')
        out.append('</body></html>')
        return '\n'.join(out)


def _numeric_col(rows, i) -> bool:
    """A column of numbers (right-aligned) rather than text (left-aligned)."""
    cells = [r[i] for r in rows if i < len(r)]
    return bool(cells) and all(_NUMERIC.match(c.replace(' ', '')) for c in cells)


def fmt(v) -> str:
    """A table cell: 4 significant digits, ``-`` for missing, ``n/a`` for COCO's -1."""
    if v is None:
        return '-'
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return '-' if math.isnan(v) else f'{v:.4g}' if abs(v) < 1e4 else f'{v:.0f}'
    return str(v)


def pct(v) -> str:
    """A signed percentage, ``-`` where undefined."""
    return '-' if v is None or (isinstance(v, float) and math.isnan(v)) else f'{v:+.1f}%'


def ap_pct(v) -> str:
    """An AP in [0, 1] as a percentage; ``n/a`` for COCO's -1 (no objects of that kind)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '-'
    return 'n/a' if v < 0 else f'{100 * v:.1f}'


def mean_std(values) -> tuple:
    """Mean and *sample* standard deviation (n - 1; 0 for one value), as tools/seeds.py."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def dense_and_tickets(run: dict, need) -> tuple:
    """A run's dense round and its other rounds, those for which ``need(round)`` holds."""
    dense, tickets = None, []
    for r, rd in sorted(run['rounds'].items()):
        if not need(rd):
            continue
        if rd['row']['kind'] == 'dense':
            dense = dense or rd
        else:
            tickets.append(rd)
    return dense, tickets


def first_run(runs, need):
    """The first run with a dense round and at least one other round that ``need``."""
    for run in runs:
        dense, tickets = dense_and_tickets(run, need)
        if dense is not None and tickets:
            return run, dense, tickets
    return None, None, None
