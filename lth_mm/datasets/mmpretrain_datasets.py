# Copyright (c) lth_mm authors. All rights reserved.
"""mmpretrain dataset over the synthetic classification crops, generated on first use."""
from mmpretrain.datasets import CustomDataset
from mmpretrain.registry import DATASETS

from .synthetic import SYNTHETIC_CLASSES, ensure_synthetic_cls_dataset


@DATASETS.register_module()
class SyntheticClsDataset(CustomDataset):
    """mmpretrain ``CustomDataset`` over the synthetic crops, generated on first use.

    Args:
        synthetic (dict, optional): generation parameters overriding
            :data:`~lth_mm.datasets.synthetic.DEFAULT_SYNTHETIC_CLS`.
        **kwargs: ``CustomDataset`` arguments; ``data_root`` is the crops' root and
            ``data_prefix`` the split (``'train'`` / ``'val'``).
    """

    METAINFO = dict(classes=sorted(SYNTHETIC_CLASSES))

    def __init__(self, *args, synthetic=None, **kwargs):
        if not kwargs.get('data_root'):
            raise ValueError("SyntheticClsDataset needs data_root, e.g. "
                             "data_root='data/lth_synthetic_cls/'")
        ensure_synthetic_cls_dataset(kwargs['data_root'], **(synthetic or {}))
        super().__init__(*args, **kwargs)
