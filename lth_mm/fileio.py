# Copyright (c) lth_mm authors. All rights reserved.
"""Atomic file writes: a crash mid-write never leaves a truncated file in place."""
import json
import os
import tempfile
from typing import Any

import torch


def _atomic(path: str, write) -> None:
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp',
                               dir=directory)
    try:
        # mkstemp creates 0600; give the file the mode open() would (0666 & ~umask), like
        # the checkpoints written beside it.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic on POSIX within one file system
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open('/proc/self/status') as f:  # Linux: no race with other threads
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` to a temporary file, then rename over ``path``.

    Args:
        obj: object to save.
        path: destination.
    """
    _atomic(path, lambda f: torch.save(obj, f))


def atomic_write_text(text: str, path: str) -> None:
    """Write text atomically.

    Args:
        text: content.
        path: destination.
    """
    _atomic(path, lambda f: f.write(text.encode('utf-8')))


def atomic_write_json(obj: Any, path: str) -> None:
    """Write JSON (indented, keys kept in order) atomically.

    Args:
        obj: JSON-serialisable object.
        path: destination.
    """
    atomic_write_text(json.dumps(obj, indent=2, default=_json_default) + '\n', path)


def _json_default(o):
    if isinstance(o, torch.Tensor):
        return o.item() if o.numel() == 1 else o.tolist()
    if hasattr(o, 'item'):
        return o.item()
    return str(o)
