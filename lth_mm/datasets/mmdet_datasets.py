# Copyright (c) lth_mm authors. All rights reserved.
"""mmdet datasets over the synthetic shapes data, generated on first use.

Both classes take the usual mmdet dataset arguments plus ``synthetic=dict(...)`` (the
generation parameters, default :data:`~lth_mm.datasets.synthetic.DEFAULT_SYNTHETIC`).
They call :func:`~lth_mm.datasets.synthetic.ensure_synthetic_dataset` on ``data_root``
*before* the parent constructor reads any file, so whichever of the train dataset or the
val dataset is built first creates the files, and evaluators configured with
``ann_file=data_root + 'annotations/instances_val.json'`` find them (mmengine builds the
val dataloader before the evaluator).
"""
from mmdet.datasets import CocoDataset, VOCDataset
from mmdet.registry import DATASETS

from .synthetic import SYNTHETIC_CLASSES, SYNTHETIC_PALETTE, prepare_synthetic_root

__all__ = ['SyntheticCocoDataset', 'SyntheticVOCDataset']


@DATASETS.register_module()
class SyntheticCocoDataset(CocoDataset):
    """COCO-format synthetic shapes (boxes + masks), generated on first use.

    Args:
        synthetic (dict, optional): generation parameters (``num_train``, ``num_val``,
            ``img_size``, ``seed``, ``voc``); defaults to DEFAULT_SYNTHETIC.
        **kwargs: :class:`mmdet.datasets.CocoDataset` arguments; ``data_root`` is
            required, typically with ``ann_file='annotations/instances_train.json'`` and
            ``data_prefix=dict(img='images/train/')``.
    """

    METAINFO = dict(classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE)

    def __init__(self, *args, synthetic=None, **kwargs):
        super().__init__(*args, **prepare_synthetic_root(kwargs, synthetic))


@DATASETS.register_module()
class SyntheticVOCDataset(VOCDataset):
    """Pascal-VOC-format synthetic shapes (boxes), generated on first use.

    Args:
        synthetic (dict, optional): generation parameters; ``voc`` must stay True.
        **kwargs: :class:`mmdet.datasets.VOCDataset` arguments; ``data_root`` is the
            synthetic root (not its VOCdevkit), with
            ``ann_file='VOCdevkit/VOC2007/ImageSets/Main/trainval.txt'`` (or
            ``test.txt``) and ``data_prefix=dict(sub_data_root='VOCdevkit/VOC2007/')``.
    """

    METAINFO = dict(classes=SYNTHETIC_CLASSES, palette=SYNTHETIC_PALETTE)

    def __init__(self, *args, synthetic=None, **kwargs):
        if synthetic is not None and synthetic.get('voc') is False:
            raise ValueError('SyntheticVOCDataset needs the VOC layout: synthetic.voc '
                             'must be True')
        super().__init__(*args, **prepare_synthetic_root(kwargs, synthetic))
