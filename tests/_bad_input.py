"""The format of the bad-input table (tests/test_bad_input.py) and how a row is checked.

A row is one thing a user can get wrong at one entry point. ``run(tmp_path)`` does what
the user would do (a tool's ``main(argv)``, an ``lth_mm.apis`` function, building the
lottery runner from a config...) inside ``tmp_path``, which a row prepares with whatever
files it needs first (``setup``). The check: exactly one clear error (an exception, or a
non-zero exit of a tool's ``main``) whose message contains ``match``; and no file that
existed under ``tmp_path`` after ``setup`` was changed or removed, and nothing new was
written outside ``tmp_path / 'fresh'`` (a fresh output location a row may name).
"""
import hashlib
import os
import os.path as osp
from typing import Callable, NamedTuple, Optional


class BadInput(NamedTuple):
    """One row of the table.

    Args:
        id: short name (the pytest id).
        entry: the entry point, as the "Common errors" page names it (e.g. ``tools/prune.py``,
            ``lottery.keep_ratio``).
        run: ``run(tmp_path)`` does the bad thing.
        match: a fragment of the expected message (case-insensitive).
        fix: the fix, in a few words, for the "Common errors" page.
        setup: ``setup(tmp_path)`` prepares files before the snapshot, or None.
    """
    id: str
    entry: str
    run: Callable
    match: str
    fix: str
    setup: Optional[Callable] = None


def tree_digest(root: str) -> dict:
    """Relative path -> sha256 of every file below ``root`` (``fresh/`` excluded)."""
    out = {}
    for d, _, files in os.walk(root):
        rel_dir = osp.relpath(d, root)
        if rel_dir == 'fresh' or rel_dir.startswith('fresh' + os.sep):
            continue
        for f in files:
            p = osp.join(d, f)
            with open(p, 'rb') as fh:
                out[osp.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out
