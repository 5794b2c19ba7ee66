# Copyright (c) lth_mm authors. All rights reserved.
"""Shared pytest fixtures: the repository root and the optional real-data set ``coco_mini``."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Four real COCO val2017 images with person boxes, masks and keypoints, kept outside the
# repository (next to the checkout) because of their licenses; LTH_MM_COCO_MINI overrides.
COCO_MINI = REPO_ROOT.parent / 'shared' / 'data' / 'coco_mini'


@pytest.fixture(scope='session')
def repo_root() -> Path:
    """Absolute path of the lth_mm checkout (the directory holding setup.py)."""
    return REPO_ROOT


@pytest.fixture(scope='session')
def coco_mini() -> Path:
    """Path of the ``coco_mini`` data set (``images/`` + ``person_keypoints.json``).

    Skips the test, saying where the data was looked for, when it is not there.
    """
    path = Path(os.environ.get('LTH_MM_COCO_MINI', COCO_MINI)).resolve()
    missing = [name for name in ('person_keypoints.json', 'images')
               if not (path / name).exists()]
    if missing:
        pytest.skip(f'coco_mini data not found: {path} lacks {", ".join(missing)} '
                    '(expected ../shared/data/coco_mini next to the checkout, or set '
                    'LTH_MM_COCO_MINI)')
    return path
