# Copyright (c) lth_mm authors. All rights reserved.
"""Generate a dataset folder once, safely under concurrent callers (e.g. DDP ranks).

Shared by the detection set (:func:`~.generate.ensure_synthetic_dataset`) and the
classification crops (:func:`~.classification.ensure_synthetic_cls_dataset`).
"""
import contextlib
import json
import os
import os.path as osp
import shutil
import sys
import tempfile

# Written last by every generator: its presence marks a complete dataset.
META_FILE = 'meta.json'


def read_meta(out_dir, what):
    """``meta.json`` of an existing dataset folder, or None where it may be created.

    Args:
        out_dir (str): the dataset root.
        what (str): what the folder should hold, for the error message.

    Returns:
        dict | None: the parsed ``meta.json``; None if ``out_dir`` is absent or empty.

    Raises:
        ValueError: ``out_dir`` is a non-empty folder without ``meta.json`` (left as is).
    """
    meta_path = osp.join(out_dir, META_FILE)
    if not osp.isfile(meta_path):
        if osp.exists(out_dir) and not (osp.isdir(out_dir) and not os.listdir(out_dir)):
            raise ValueError(
                f'{out_dir} exists but has no {META_FILE}, so it is not {what}; it is left '
                'untouched. Use another data_root for the synthetic data.')
        return None
    with open(meta_path, encoding='utf-8') as f:
        return json.load(f)


@contextlib.contextmanager
def _file_lock(path):
    """Exclusive inter-process lock (fcntl) on ``path``; a no-op where fcntl is absent."""
    try:
        import fcntl
    except ImportError:  # Windows: no fcntl; concurrent generation is then unsupported
        yield
        return
    with open(path, 'a+') as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _log(msg):
    try:  # show up in the runner's log when mmengine is there
        from mmengine.logging import print_log
        print_log(msg, logger='current')
    except ImportError:
        print(msg, file=sys.stderr)


def materialize_once(out_dir, is_complete, generate, description):
    """Return ``out_dir``, calling ``generate`` to create it if it is not there yet.

    An ``fcntl`` lock on ``<out_dir>.lock`` serialises concurrent callers; ``generate``
    writes into a temporary sibling folder that is renamed into place, so ``out_dir`` is
    either absent or complete. An existing folder is never modified or deleted.

    Args:
        out_dir (str): dataset root (``~`` is expanded).
        is_complete (callable): ``is_complete(out_dir)`` is True for a matching dataset,
            False for an absent or empty folder, and raises ValueError otherwise.
        generate (callable): ``generate(folder)`` writes the dataset into an empty folder.
        description (str): what is generated, for the log.

    Returns:
        str: absolute path of the dataset root (no trailing slash).
    """
    out_dir = osp.abspath(osp.expanduser(str(out_dir)))
    if is_complete(out_dir):  # fast path, no lock needed
        return out_dir
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    # The lock file stays: deleting it would let a late process lock a different inode.
    with _file_lock(out_dir + '.lock'):
        if is_complete(out_dir):  # another process generated it meanwhile
            return out_dir
        _log(f'lth_mm: generating {description} at {out_dir}')
        tmp = tempfile.mkdtemp(dir=parent, prefix=f'.{osp.basename(out_dir)}.tmp-')
        try:
            generate(tmp)
            os.chmod(tmp, 0o755)  # mkdtemp makes 0o700
            if osp.isdir(out_dir):  # an empty folder (checked above): replace it
                os.rmdir(out_dir)
            os.rename(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out_dir
