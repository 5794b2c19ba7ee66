# Copyright (c) lth_mm authors. All rights reserved.
"""The synthetic set's file formats: COCO json (boxes, masks, keypoints) and Pascal VOC.

Only content is built here (dicts, strings, encoded images); :mod:`.generate` decides
where the files go.
"""
import json
import os.path as osp
from xml.sax.saxutils import escape

import cv2

from .params import FORMAT_VERSION, KEYPOINT_NAMES, SKELETON, SYNTHETIC_CLASSES
from .polygons import encode_segmentation, mask_bbox

_JPEG_QUALITY = 95
# The VOC copy's layout below the dataset root; VOC's split files for train / val.
VOC_ROOT = osp.join('VOCdevkit', 'VOC2007')
VOC_SPLIT_FILE = dict(train='trainval', val='test')


def dump_json(obj):
    """Sorted keys and fixed separators: byte-identical output for identical content."""
    return json.dumps(obj, sort_keys=True, separators=(',', ':'))


def encode_jpeg(image, file_name):
    """The JPEG bytes of a uint8 BGR image (``file_name`` only names it in errors)."""
    ok, buf = cv2.imencode('.jpg', image, [int(cv2.IMWRITE_JPEG_QUALITY), _JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f'cv2 could not encode {file_name}')
    return buf.tobytes()


def coco_categories():
    """COCO ``categories`` entries (ids 1..4) with keypoint names and skeleton."""
    return [
        dict(id=i + 1, name=name, supercategory='shape', keypoints=list(KEYPOINT_NAMES),
             skeleton=[list(link) for link in SKELETON])
        for i, name in enumerate(SYNTHETIC_CLASSES)
    ]


def coco_annotation(instance, ann_id, image_id):
    """One COCO annotation of a rendered instance.

    Args:
        instance (dict): from :func:`~.drawing.render_image` (``label``, ``visible``,
            ``keypoints``).
        ann_id (int): the annotation id (1-based, unique in the file).
        image_id (int): the image's id.

    Returns:
        dict: box, area and segmentation of the visible pixels, and the keypoints.
    """
    visible = instance['visible']
    kpts = instance['keypoints']
    flat = []
    for x, y, v in kpts:
        flat += [round(float(x), 2), round(float(y), 2), int(v)]
    return dict(
        id=ann_id, image_id=image_id, category_id=int(instance['label']) + 1,
        bbox=mask_bbox(visible), area=float(visible.sum()),
        segmentation=encode_segmentation(visible), iscrowd=0,
        keypoints=flat, num_keypoints=int((kpts[:, 2] > 0).sum()))


def coco_dataset(images, annotations, params):
    """The COCO json of one split (``params`` are recorded in its ``info``)."""
    return dict(
        info=dict(description='lth_mm synthetic shapes', version=str(FORMAT_VERSION),
                  contributor='lth_mm', params=params),
        licenses=[], images=images, annotations=annotations,
        categories=coco_categories())


def area_counts(annotations):
    """Number of COCO small / medium / large annotations."""
    counts = dict(small=0, medium=0, large=0)
    for ann in annotations:
        area = ann['area']
        counts['small' if area < 32**2 else 'medium' if area <= 96**2 else 'large'] += 1
    return counts


def voc_xml(file_name, img_size, annotations):
    """Pascal VOC annotation of one image from its COCO ``annotations`` (boxes only)."""
    lines = ['<annotation>', '  <folder>VOC2007</folder>',
             f'  <filename>{escape(file_name)}</filename>',
             '  <source><database>lth_mm synthetic shapes</database></source>',
             f'  <size><width>{img_size}</width><height>{img_size}</height>'
             '<depth>3</depth></size>', '  <segmented>0</segmented>']
    for ann in annotations:
        name = SYNTHETIC_CLASSES[ann['category_id'] - 1]
        x, y, w, h = ann['bbox']
        # VOC pixel indices are 1-based and inclusive.
        xmin, ymin = int(x) + 1, int(y) + 1
        xmax, ymax = int(x + w), int(y + h)
        lines += ['  <object>', f'    <name>{escape(name)}</name>',
                  '    <pose>Unspecified</pose>', '    <truncated>0</truncated>',
                  '    <difficult>0</difficult>',
                  f'    <bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin>'
                  f'<xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox>', '  </object>']
    lines.append('</annotation>')
    return '\n'.join(lines) + '\n'
