# Copyright (c) lth_mm authors. All rights reserved.
"""Writing the synthetic detection / instance / keypoint dataset, and generating it once.

Layout written by :func:`generate_synthetic_dataset`::

    out_dir/
      meta.json                              generation parameters + format version
      images/{train,val}/{split}_000000.jpg
      annotations/instances_{train,val}.json COCO: bbox, segm, keypoints in one file
      VOCdevkit/VOC2007/                     (voc=True) Pascal VOC copy of the boxes
        JPEGImages/*.jpg  Annotations/*.xml  ImageSets/Main/{trainval,test}.txt
"""
import os
import os.path as osp

from ...fileio import atomic_write_text
from .drawing import render_image
from .materialize import META_FILE, materialize_once, read_meta
from .params import (DEFAULT_SYNTHETIC, FORMAT_VERSION, KEYPOINT_NAMES, SPLITS,
                     SYNTHETIC_CLASSES, VARIANT_DEFAULTS, image_rng, normalize_params)
from .writers import (VOC_ROOT, VOC_SPLIT_FILE, area_counts, coco_annotation, coco_dataset,
                      dump_json, encode_jpeg, voc_xml)


def _write(path, data):
    # Plain writes: an unfinished dataset has no meta.json (written last, atomically), and
    # ensure_synthetic_dataset generates into a temporary folder renamed into place.
    if isinstance(data, str):
        data = data.encode('utf-8')
    with open(path, 'wb') as f:
        f.write(data)


def _generate_split(out_dir, split, num_images, params):
    """Render one split, write its images (+ VOC files) and return its COCO dict."""
    img_size = params['img_size']
    variant = {k: params.get(k, v) for k, v in VARIANT_DEFAULTS.items()}
    voc_root = osp.join(out_dir, VOC_ROOT)
    images, annotations, voc_ids = [], [], []
    for index in range(num_images):
        image, instances = render_image(image_rng(params['seed'], split, index), img_size,
                                        **variant)
        stem = f'{split}_{index:06d}'
        file_name = f'{stem}.jpg'
        data = encode_jpeg(image, file_name)
        _write(osp.join(out_dir, 'images', split, file_name), data)
        image_id = index + 1
        images.append(dict(id=image_id, file_name=file_name, width=img_size, height=img_size))
        anns = [coco_annotation(inst, len(annotations) + k + 1, image_id)
                for k, inst in enumerate(instances)]
        annotations += anns
        if params['voc']:
            _write(osp.join(voc_root, 'JPEGImages', file_name), data)
            _write(osp.join(voc_root, 'Annotations', f'{stem}.xml'),
                   voc_xml(file_name, img_size, anns))
            voc_ids.append(stem)
    if params['voc']:
        _write(osp.join(voc_root, 'ImageSets', 'Main', f'{VOC_SPLIT_FILE[split]}.txt'),
               ''.join(f'{i}\n' for i in voc_ids))
    return coco_dataset(images, annotations, params)


def generate_synthetic_dataset(out_dir, **params):
    """Generate the synthetic dataset into ``out_dir`` (which must be new or empty).

    Most callers want :func:`ensure_synthetic_dataset`, which is atomic and safe under
    concurrent callers; this function writes in place.

    Args:
        out_dir (str): destination folder; created if missing.
        **params: generation parameters, see :data:`DEFAULT_SYNTHETIC`:
            ``num_train`` (int), ``num_val`` (int), ``img_size`` (int, >= 64),
            ``seed`` (int), ``voc`` (bool, also write the Pascal VOC layout).

    Returns:
        dict: the content of ``meta.json``: ``format_version``, ``params`` and per-split
        ``stats`` (images, instances, COCO small/medium/large counts).

    Raises:
        ValueError: bad parameters, or ``out_dir`` exists and is not empty.
    """
    params = normalize_params(**params)
    out_dir = osp.abspath(osp.expanduser(out_dir))
    if osp.isdir(out_dir) and os.listdir(out_dir):
        raise ValueError(f'{out_dir} exists and is not empty; refusing to write the '
                         'synthetic dataset into it (choose another folder)')
    dirs = [osp.join(out_dir, 'annotations')] + [osp.join(out_dir, 'images', s) for s in SPLITS]
    if params['voc']:
        voc_root = osp.join(out_dir, VOC_ROOT)
        dirs += [osp.join(voc_root, d) for d in ('JPEGImages', 'Annotations', 'ImageSets/Main')]
    for d in dirs:
        os.makedirs(d, exist_ok=True)

    stats = {}
    for split, num in zip(SPLITS, (params['num_train'], params['num_val'])):
        coco = _generate_split(out_dir, split, num, params)
        _write(osp.join(out_dir, 'annotations', f'instances_{split}.json'), dump_json(coco))
        stats[split] = dict(images=len(coco['images']),
                            instances=len(coco['annotations']),
                            areas=area_counts(coco['annotations']))
    meta = dict(format_version=FORMAT_VERSION, generator='lth_mm.datasets.synthetic',
                params=params, stats=stats, classes=list(SYNTHETIC_CLASSES),
                keypoints=list(KEYPOINT_NAMES))
    # meta.json last: its presence marks a complete dataset.
    atomic_write_text(dump_json(meta), osp.join(out_dir, META_FILE))
    return meta


def _param_mismatch(meta, params):
    """Names of parameters in which an existing dataset differs from the request."""
    if meta.get('format_version') != FORMAT_VERSION:
        return [f"format_version (found {meta.get('format_version')!r}, "
                f'need {FORMAT_VERSION})']
    found = meta.get('params', {})
    # Variant keys are stored only when non-default: compare them with the defaults filled.
    found = {**VARIANT_DEFAULTS, **found}
    params = {**VARIANT_DEFAULTS, **params}
    diffs = []
    for key, want in params.items():
        have = found.get(key)
        if key == 'voc' and have is True and want is False:
            continue  # extra VOC files are harmless
        if have != want:
            diffs.append(f'{key} (found {have!r}, requested {want!r})')
    return diffs


def _check_existing(out_dir, params):
    """True if ``out_dir`` holds a synthetic dataset of ``params``; False if absent/empty.

    Raises:
        ValueError: a foreign folder, or a dataset generated with other parameters.
    """
    meta = read_meta(out_dir, 'an lth_mm synthetic dataset')
    if meta is None:
        return False
    diffs = _param_mismatch(meta, params)
    if diffs:
        raise ValueError(
            f'the synthetic dataset at {out_dir} was generated with different parameters: '
            f"{'; '.join(diffs)}. It is left untouched. Use another data_root for these "
            'parameters, or delete that folder to regenerate it.')
    return True


def ensure_synthetic_dataset(out_dir, **params):
    """Return ``out_dir``, generating the synthetic dataset there on first use.

    Safe for several processes (e.g. DDP ranks) calling it at once: an ``fcntl`` lock on
    ``<out_dir>.lock`` serialises them, the data are generated into a temporary sibling
    folder and moved into place with ``os.rename``, so ``out_dir`` is either absent or
    complete. An existing folder is never modified or deleted.

    Args:
        out_dir (str): dataset root (``~`` is expanded), e.g. ``'data/lth_synthetic/'``.
        **params: generation parameters, see :data:`DEFAULT_SYNTHETIC`.

    Returns:
        str: absolute path of the dataset root (no trailing slash).

    Raises:
        ValueError: bad parameters; ``out_dir`` holds a synthetic dataset generated with
            other parameters; or ``out_dir`` is a non-empty folder that is not one.
    """
    params = normalize_params(**params)
    return materialize_once(
        out_dir, lambda root: _check_existing(root, params),
        lambda tmp: generate_synthetic_dataset(tmp, **params),
        f'the synthetic dataset {params}')


def prepare_synthetic_root(kwargs, synthetic):
    """Generate the synthetic data under a dataset's ``data_root`` if needed.

    Shared by the registered mmdet / mmpose dataset classes, which call it before their
    parent constructor reads any file.

    Args:
        kwargs (dict): the dataset's keyword arguments; ``data_root`` is required and is
            returned with ``~`` expanded (relative paths stay relative to the cwd, as in
            every OpenMMLab config).
        synthetic (dict | None): generation parameters overriding DEFAULT_SYNTHETIC.

    Returns:
        dict: a copy of ``kwargs`` with the expanded ``data_root``.

    Raises:
        ValueError: no ``data_root``; or see :func:`ensure_synthetic_dataset`.
    """
    data_root = kwargs.get('data_root')
    if not data_root:
        raise ValueError("synthetic datasets need data_root, e.g. "
                         "data_root='data/lth_synthetic/'")
    if synthetic is not None and not isinstance(synthetic, dict):
        raise ValueError(f'synthetic must be a dict of generation parameters, '
                         f'got {synthetic!r}')
    data_root = osp.expanduser(str(data_root))
    ensure_synthetic_dataset(data_root, **{**DEFAULT_SYNTHETIC, **(synthetic or {})})
    return {**kwargs, 'data_root': data_root}
