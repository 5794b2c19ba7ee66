# Copyright (c) lth_mm authors. All rights reserved.
"""Classification layout of the synthetic shapes: one crop per object, a folder per class.

The small-scale stand-in for ImageNet in the transfer chain (docs/transfer.md): a classifier
ticket is found on these crops with mmpretrain, then transferred into a detector trained on
the full synthetic images. The crops come from a synthetic detection set generated with its
own seed, so classifier and detector see different images of the same distribution (as
ImageNet and COCO differ). Layout (what mmpretrain's ``CustomDataset`` reads with
``data_prefix='train'``; class names from the sub-folders, in sorted order)::

    out_dir/meta.json
    out_dir/{train,val}/{circle,cross,square,triangle}/{image_id}_{ann_id}.png
    out_dir/source/   the detection set the crops come from (:mod:`.generate`)
"""
import json
import os
import os.path as osp

import cv2

from ...fileio import atomic_write_json
from .generate import generate_synthetic_dataset
from .materialize import META_FILE, materialize_once, read_meta
from .params import DEFAULT_SYNTHETIC, SPLITS, SYNTHETIC_CLASSES, normalize_params

CLS_FORMAT_VERSION = 1
DEFAULT_SYNTHETIC_CLS = dict(DEFAULT_SYNTHETIC, num_train=300, num_val=60, img_size=128,
                             seed=1, voc=False, crop_size=32, margin=0.15)
# Parameters of the crops themselves; the others are the source detection set's.
_CROP_KEYS = ('crop_size', 'margin')


def _crop(img, bbox, margin, size):
    """A square crop around ``bbox`` (x, y, w, h) enlarged by ``margin``, resized."""
    x, y, w, h = bbox
    side = max(w, h) * (1 + 2 * margin)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    x1, y1 = int(round(cx + side / 2)), int(round(cy + side / 2))
    pad = max(0, -x0, -y0, x1 - img.shape[1], y1 - img.shape[0])
    if pad:  # shapes near the border: replicate the edge rather than shift the object
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return cv2.resize(img[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)


def generate_synthetic_cls_dataset(out_dir, crop_size=32, margin=0.15, **params):
    """Generate the crops into ``out_dir`` (new or empty).

    Args:
        out_dir (str): destination.
        crop_size (int): side of the square crops in pixels.
        margin (float): context around each box, as a fraction of its longer side.
        **params: generation parameters of the source detection set
            (see :data:`~lth_mm.datasets.synthetic.DEFAULT_SYNTHETIC`).

    Returns:
        dict: the content of ``meta.json`` (parameters and crops per split and class).
    """
    if not (isinstance(crop_size, int) and crop_size >= 8):
        raise ValueError(f'crop_size must be an integer >= 8, got {crop_size!r}')
    if not 0 <= margin <= 1:
        raise ValueError(f'margin must be in [0, 1], got {margin!r}')
    params = normalize_params(**params)
    src = osp.join(out_dir, 'source')
    generate_synthetic_dataset(src, **params)
    counts = {}
    for split in SPLITS:
        with open(osp.join(src, 'annotations', f'instances_{split}.json')) as f:
            coco = json.load(f)
        names = {c['id']: c['name'] for c in coco['categories']}
        files = {im['id']: im['file_name'] for im in coco['images']}
        counts[split] = {c: 0 for c in SYNTHETIC_CLASSES}
        for c in SYNTHETIC_CLASSES:
            os.makedirs(osp.join(out_dir, split, c), exist_ok=True)
        cache = {}
        for ann in coco['annotations']:
            img_id = ann['image_id']
            if img_id not in cache:
                cache = {img_id: cv2.imread(osp.join(src, 'images', split, files[img_id]))}
            name = names[ann['category_id']]
            crop = _crop(cache[img_id], ann['bbox'], margin, crop_size)
            cv2.imwrite(osp.join(out_dir, split, name, f"{img_id:06d}_{ann['id']:06d}.png"),
                        crop)
            counts[split][name] += 1
    # The generator's name when the format was fixed: meta.json stays identical.
    meta = dict(format_version=CLS_FORMAT_VERSION, generator='lth_mm.datasets.synthetic_cls',
                params=dict(params, crop_size=crop_size, margin=margin), crops=counts,
                classes=sorted(SYNTHETIC_CLASSES))
    atomic_write_json(meta, osp.join(out_dir, META_FILE))  # last: marks a complete set
    return meta


def _check_existing(out_dir, want):
    """True if ``out_dir`` holds crops made with ``want``; False if absent or empty."""
    meta = read_meta(out_dir, 'lth_mm synthetic crops')
    if meta is None:
        return False
    found = meta.get('params')
    if found != want:
        raise ValueError(f'{out_dir} holds synthetic crops made with {found}, not {want}; '
                         'choose another data_root or delete the folder.')
    return True


def ensure_synthetic_cls_dataset(out_dir, **params):
    """Return ``out_dir``, generating the crops there on first use (atomic, locked).

    Args:
        out_dir (str): dataset root.
        **params: ``crop_size``, ``margin`` and the source set's generation parameters
            (defaults: :data:`DEFAULT_SYNTHETIC_CLS`).

    Returns:
        str: the absolute root.

    Raises:
        ValueError: bad parameters, or ``out_dir`` holds crops made with other parameters.
    """
    params = {**DEFAULT_SYNTHETIC_CLS, **params}
    want = dict(normalize_params(**{k: v for k, v in params.items() if k not in _CROP_KEYS}),
                **{k: params[k] for k in _CROP_KEYS})
    return materialize_once(
        out_dir, lambda root: _check_existing(root, want),
        lambda tmp: generate_synthetic_cls_dataset(tmp, **params),
        f'the synthetic classification crops {want}')
