# Copyright (c) lth_mm authors. All rights reserved.
"""One report of the paper's analyses from one or more lottery work_dirs.

:func:`build_report` writes ``report.md``, ``report.html`` (pictures embedded) and, per
analysis whose data exist, a PNG and a PDF. Comparisons across rounds (size, frequency,
difficulty, TIDE, keypoint errors, convergence, early bird, per-layer) use the first
work_dir that holds the data; the sparsity-vs-metric figure uses every round of every
work_dir (seeds of one group averaged: ``X_seedN`` or tools/seeds.py's ``root/seed_N``).

The report is written into a new directory beside ``out_dir`` and swapped in when complete:
an earlier report there is replaced whole (no stale figures), and a directory holding
anything the report did not write is refused, never emptied.
"""
import datetime
import glob
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Sequence

from .. import paths
from .collect import load_run
from .doc import Doc
from .sections_eval import category_sections, keypoint_section, size_section, tide_section
from .sections_run import (convergence_section, early_bird_section, per_layer_section,
                           rounds_section, sparsity_section)

# Lists the files a report wrote, so that the next report may replace them (and only them).
MARKER = paths.REPORT_MARKER
# What a report written before the marker existed holds (make demo reuses its --out).
FIGURES = ('sparsity_vs_metric', 'size', 'frequency', 'difficulty', 'tide_bbox', 'tide_segm',
           'keypoint_errors', 'convergence', 'early_bird', 'per_layer')
LEGACY_FILES = {'report.md', 'report.html'} | {f'{f}.{e}' for f in FIGURES
                                               for e in ('png', 'pdf')}


def check_out_dir(out_dir: str) -> None:
    """Refuse an ``out_dir`` holding anything but an earlier lth_mm report.

    Raises:
        FileExistsError: ``out_dir`` is a file, or a directory with other files.
    """
    if not osp.exists(out_dir):
        return
    if not osp.isdir(out_dir):
        raise FileExistsError(f'--out {out_dir} is a file; give a directory.')
    entries = set(os.listdir(out_dir))
    if not entries:
        return
    ours = set()
    if MARKER in entries:
        with open(osp.join(out_dir, MARKER)) as f:
            ours = set(json.load(f).get('files', [])) | {MARKER}
    elif 'report.md' in entries and entries <= LEGACY_FILES:
        ours = entries  # an lth_mm report from before the marker: only its own names
    other = sorted(entries - ours)
    if other:
        raise FileExistsError(
            f'--out {out_dir} holds files this report did not write ({", ".join(other[:5])}'
            f'{" ..." if len(other) > 5 else ""}); the report replaces its directory whole, '
            'so give a new or empty directory (or an earlier report\'s).')


def _header(doc: Doc, runs: List[dict]) -> None:
    from .. import __version__
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    doc.h('Lottery ticket analyses', 1)
    doc.p(f'lth_mm {__version__}, generated {now} by `tools/analysis/report.py`. Percent '
          'changes are relative to the dense round (round 0) of the same work_dir; AP in %; '
          'sparsity is the network sparsity (all weights) unless said otherwise.')
    rows = []
    for r in runs:
        cfgs = sorted(glob.glob(osp.join(r['work_dir'], '*.py')) +
                      glob.glob(osp.join(r['work_dir'], 'round_0', '*.py')))
        rows.append([f"`{r['work_dir']}`", r['group'],
                     ', '.join(f'`{osp.basename(c)}`' for c in cfgs[:2]) or '-',
                     len(r['rows'])])
    doc.table(['work_dir', 'group', 'config', 'rounds'], rows)


def _swap_in(staging: str, out_dir: str) -> None:
    """Move the finished report to ``out_dir``, replacing an earlier report there."""
    old = None
    if osp.exists(out_dir):
        check_out_dir(out_dir)  # again: nothing may have appeared while we worked
        old = f'{out_dir}.old-{os.getpid()}'
        os.rename(out_dir, old)
    os.rename(staging, out_dir)
    if old is not None:
        shutil.rmtree(old)  # only an earlier report's own files (checked above)


def build_report(work_dirs: Sequence[str], out_dir: str, n_bins: int = 4,
                 progress: bool = True) -> Dict[str, object]:
    """Write ``report.md``, ``report.html`` and the figures (PNG + PDF) the data support.

    Args:
        work_dirs: lottery work_dirs (each with ``lottery_summary.json``).
        out_dir: output directory: new, empty, or an earlier report's (replaced whole).
        n_bins: the most category bins (frequency, difficulty).
        progress: show a progress bar with the time left (mmengine's ``ProgressBar``).

    Returns:
        dict: ``markdown`` and ``html`` paths, ``figures`` (PNG paths; a PDF beside each).

    Raises:
        FileNotFoundError: a work_dir without a lottery summary (checked before any work).
        FileExistsError: ``out_dir`` holds other files (checked before any work).
    """
    runs = [load_run(w) for w in work_dirs]  # fails first, on a bad work_dir
    out_dir = osp.normpath(out_dir)
    check_out_dir(out_dir)
    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    staging = f'{osp.abspath(out_dir)}.tmp-{os.getpid()}'
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    doc = Doc(staging)
    sections = [
        ('header', lambda: _header(doc, runs)), ('rounds', lambda: rounds_section(doc, runs)),
        ('sparsity', lambda: sparsity_section(doc, runs)),
        ('size', lambda: size_section(doc, runs)),
        ('categories', lambda: category_sections(doc, runs, n_bins)),
        ('TIDE', lambda: tide_section(doc, runs)),
        ('keypoint errors', lambda: keypoint_section(doc, runs)),
        ('convergence', lambda: convergence_section(doc, runs)),
        ('early bird', lambda: early_bird_section(doc, runs)),
        ('per layer', lambda: per_layer_section(doc, runs)),
    ]
    try:
        bar = None
        if progress:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(len(sections))
        for _, fn in sections:
            fn()
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.file.write('\n')
        from ..fileio import atomic_write_json, atomic_write_text
        atomic_write_text(doc.markdown(), osp.join(staging, 'report.md'))
        atomic_write_text(doc.html(), osp.join(staging, 'report.html'))
        atomic_write_json({'files': sorted(os.listdir(staging))}, osp.join(staging, MARKER))
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dict(markdown=osp.join(out_dir, 'report.md'),
                html=osp.join(out_dir, 'report.html'),
                figures=[osp.join(out_dir, osp.basename(f)) for f in doc.figures])
