# Copyright (c) lth_mm authors. All rights reserved.
"""The paper's numbers and claims, read from the one data file ``lth_mm/data/paper.json``.

The zoo tables (``lth_mm.zoo``: configs/README.md and the metafiles), the analysis report
(``lth_mm.analysis``) and the miniature benchmark (``lth_mm.benchmark.miniature``) all
quote the paper through this module, so a number is corrected in the data file and
nowhere else. Pure Python (json only).
"""
import functools
import json
import os.path as osp

PAPER_JSON = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'paper.json')


@functools.lru_cache(maxsize=None)
def load_paper(path: str = PAPER_JSON) -> dict:
    """The parsed data file (cached: it is read once per process).

    Args:
        path: the JSON file; default: the one shipped with the package.

    Returns:
        dict: ``zoo`` (config stem -> anchor text, ``@name`` for ``zoo_shared[name]``),
        ``zoo_shared``, ``zoo_no_anchor``, ``zoo_figures``, ``report`` (report section ->
        the paper's finding) and ``miniature_claims``.
    """
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def zoo_anchor(stem: str):
    """The paper's number that anchors a zoo config, or None when the paper has none.

    Args:
        stem: the config file name without ``.py``.

    Returns:
        str | None: the text of the README's "Paper (anchor)" column.
    """
    data = load_paper()
    text = data['zoo'].get(stem)
    if text and text.startswith('@'):
        return data['zoo_shared'][text[1:]]
    return text


def zoo_figure(key: str) -> str:
    """The paper item (a figure's curve, a table row) named ``key`` in ``zoo_figures``."""
    return load_paper()['zoo_figures'][key]


def no_anchor() -> str:
    """The README cell of a config that no paper item anchors."""
    return load_paper()['zoo_no_anchor']


def report_notes() -> dict:
    """Report section (``sparsity``, ``size``, ...) -> the paper's finding, as a sentence."""
    return dict(load_paper()['report'])


def miniature_claims() -> list:
    """The paper claims the miniature benchmark checks.

    Returns:
        list[tuple]: ``(claim, better row, worse row, verdict on a tie)``: the better row
        above the worse one agrees with the claim.
    """
    return [(c['claim'], c['better'], c['worse'], c['tie'])
            for c in load_paper()['miniature_claims']]
