# Copyright (c) lth_mm authors. All rights reserved.
"""lth_mm: the Lottery Ticket Hypothesis for object recognition on OpenMMLab.

``import lth_mm`` registers every component the package provides (hooks, loops, runner,
datasets) into the mmengine / mmdet / mmpose registries. Configs load it with
``custom_imports = dict(imports=['lth_mm'], allow_failed_imports=False)``.
"""
from mmengine.config.utils import MODULE2PACKAGE

from .version import __version__, version_info

# mmengine 0.10 resolves `_base_ = ['lth_mm::...']` only for packages in its table.
MODULE2PACKAGE.setdefault('lth_mm', 'lth_mm')

from . import pruning  # noqa: F401,E402  (pure PyTorch, no registration)
from . import engine  # noqa: F401,E402  (registers hooks, loops, runner)
from . import datasets  # noqa: F401,E402  (registers synthetic datasets)
from . import models  # noqa: F401,E402  (registers Keypoint R-CNN heads)
from . import evaluation  # noqa: F401,E402  (registers CocoKeypointMetric)

__all__ = ['__version__', 'version_info']
