# Copyright (c) lth_mm authors. All rights reserved.
"""A small, deterministic, learnable synthetic dataset of coloured shapes.

One generated dataset serves detection, instance segmentation (COCO json, VOC xml) and
keypoint estimation (the same COCO json carries 5 keypoints per instance), so every lth_mm
config can run end to end without downloading anything.

Layout written by :func:`generate_synthetic_dataset`::

    out_dir/
      meta.json                              generation parameters + format version
      images/{train,val}/{split}_000000.jpg
      annotations/instances_{train,val}.json COCO: bbox, segm, keypoints in one file
      VOCdevkit/VOC2007/                     (voc=True) Pascal VOC copy of the boxes
        JPEGImages/*.jpg  Annotations/*.xml  ImageSets/Main/{trainval,test}.txt

Design choices (why):

* Shapes are axis aligned and drawn without anti-aliasing, so the mask a model should
  predict is exactly the set of pixels that changed colour; the 4 classes (square, circle,
  triangle, cross) differ clearly in outline, which keeps them learnable in a few CPU
  minutes.
* Every pixel is decided by whether its centre lies inside the analytic shape, and the
  polygons are traced along pixel corners, so ``annToMask`` reproduces the visible mask
  exactly and ``area`` is the exact visible pixel count.
* Each image is drawn from its own ``numpy.random.Generator`` seeded with
  ``(seed, split, index)``: the output is byte-identical for the same parameters and the
  val split does not change when ``num_train`` does.

This module imports only numpy, cv2 and pycocotools, so it works without mmengine / mmdet /
mmpose (the registered dataset classes live in ``mmdet_datasets.py`` and
``mmpose_datasets.py``).
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import shutil
import sys
import tempfile
from xml.sax.saxutils import escape

import cv2
import numpy as np
from pycocotools import mask as mask_utils

FORMAT_VERSION = 1

SYNTHETIC_CLASSES = ('square', 'circle', 'triangle', 'cross')
# RGB, one per class, used by mmdet visualisation.
SYNTHETIC_PALETTE = [(220, 20, 60), (0, 130, 200), (60, 180, 75), (245, 130, 48)]

KEYPOINT_NAMES = ('top', 'right', 'bottom', 'left', 'center')
# 1-based like COCO's ``skeleton``: the outline top-right-bottom-left and spokes to center.
SKELETON = [[1, 2], [2, 3], [3, 4], [4, 1], [5, 1], [5, 2], [5, 3], [5, 4]]
# 0-based index pairs swapped by a horizontal flip.
FLIP_PAIRS = [(1, 3)]
# OKS sigmas, COCO's average (0.025 for eyes ... 0.107 for hips): the points of crisp
# shapes are well defined, but the models trained here are tiny and short-lived, and a
# tighter tolerance would leave keypoint AP near zero for small shapes.
SIGMAS = [0.07, 0.07, 0.07, 0.07, 0.07]

DEFAULT_SYNTHETIC = dict(num_train=200, num_val=50, img_size=192, seed=0, voc=True)
# Opt-in knobs for an easier variant (the CPU demo): at these defaults the data are
# byte-identical to the original dataset, and these keys are left out of the parameters
# (and of meta.json) unless a caller changes them, so existing datasets stay valid.
#   max_shapes: at most this many shapes per image (1..5)
#   background: 'varied' (solid / gradient / smooth noise / stripes) or 'solid'
#   min_size_frac: smallest shape side as a fraction of the image (>= 12 px)
VARIANT_DEFAULTS = dict(max_shapes=5, background='varied', min_size_frac=0.1)
_BACKGROUNDS = ('varied', 'solid')

_SPLITS = ('train', 'val')
_VOC_SPLIT_FILE = dict(train='trainval', val='test')
_JPEG_QUALITY = 95
_MIN_IMG_SIZE = 64
# An earlier instance must keep this fraction of its pixels visible after later ones are
# drawn on top; heavy occlusion would make boxes and masks ambiguous for a tiny model.
_MIN_VISIBLE_FRACTION = 0.55
# A shape colour must be at least this far (L2 in BGR) from the background and from any
# shape it overlaps, otherwise its outline would be invisible.
_MIN_COLOR_DISTANCE = 110.0


# --------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------
def _check_int(name, value, minimum):
    """Return ``value`` as int or raise ValueError with the parameter name."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f'synthetic dataset parameter {name!r} must be an int, '
                         f'got {value!r}')
    if value < minimum:
        raise ValueError(f'synthetic dataset parameter {name!r} must be >= {minimum}, '
                         f'got {value}')
    return int(value)


def normalize_params(**params):
    """Fill defaults and validate synthetic-dataset generation parameters.

    Args:
        **params: any of the keys of :data:`DEFAULT_SYNTHETIC` (``num_train``,
            ``num_val``, ``img_size``, ``seed``, ``voc``) or of
            :data:`VARIANT_DEFAULTS` (``max_shapes``, ``background``,
            ``min_size_frac``).

    Returns:
        dict: a complete parameter dict with plain Python values; a variant key is
        present only when it differs from its default.

    Raises:
        ValueError: on an unknown key or a value of the wrong type / range.
    """
    allowed = set(DEFAULT_SYNTHETIC) | set(VARIANT_DEFAULTS)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(f'unknown synthetic dataset parameter(s) {unknown}; '
                         f'allowed: {sorted(allowed)}')
    merged = {**DEFAULT_SYNTHETIC, **VARIANT_DEFAULTS, **params}
    out = dict(
        num_train=_check_int('num_train', merged['num_train'], 1),
        num_val=_check_int('num_val', merged['num_val'], 1),
        img_size=_check_int('img_size', merged['img_size'], _MIN_IMG_SIZE),
        seed=_check_int('seed', merged['seed'], 0),
    )
    if not isinstance(merged['voc'], bool):
        raise ValueError(f"synthetic dataset parameter 'voc' must be a bool, "
                         f"got {merged['voc']!r}")
    out['voc'] = merged['voc']
    max_shapes = _check_int('max_shapes', merged['max_shapes'], 1)
    if max_shapes > 5:
        raise ValueError(f"synthetic dataset parameter 'max_shapes' must be <= 5, "
                         f'got {max_shapes}')
    if merged['background'] not in _BACKGROUNDS:
        raise ValueError(f"synthetic dataset parameter 'background' must be one of "
                         f"{_BACKGROUNDS}, got {merged['background']!r}")
    frac = merged['min_size_frac']
    if isinstance(frac, bool) or not isinstance(frac, (int, float)) or not 0 < frac <= 0.3:
        raise ValueError(f"synthetic dataset parameter 'min_size_frac' must be a number "
                         f'in (0, 0.3] (the first shape is >= 0.3 of the image), got {frac!r}')
    variant = dict(max_shapes=max_shapes, background=merged['background'],
                   min_size_frac=float(frac))
    # Only non-default variant keys: the default parameters (and meta.json) are unchanged.
    out.update({k: v for k, v in variant.items() if v != VARIANT_DEFAULTS[k]})
    return out


# --------------------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------------------
def _sample_shape(rng, label, size, img_size):
    """Sample an axis-aligned shape of class ``label`` whose bbox side is ``size``.

    Box corners are on integer coordinates so squares/crosses rasterise exactly.

    Args:
        rng (np.random.Generator): the image's generator.
        label (int): 0-based class index into :data:`SYNTHETIC_CLASSES`.
        size (int): width of the shape's bounding box in pixels.
        img_size (int): image side; the shape is kept >= 1 px inside the border.

    Returns:
        dict: ``label``, ``x0``, ``y0``, ``w``, ``h`` and class-specific ``t`` (cross
        arm thickness).
    """
    w = h = int(size)
    thickness = 0
    name = SYNTHETIC_CLASSES[label]
    if name == 'triangle':
        h = max(3, int(round(size * np.sqrt(3.0) / 2.0)))  # equilateral
    elif name == 'cross':
        thickness = int(round(size * rng.uniform(0.3, 0.4)))
        # Same parity as the size so the arms' edges sit on integer coordinates.
        thickness += (size - thickness) % 2
    x0 = int(rng.integers(1, img_size - w))
    y0 = int(rng.integers(1, img_size - h))
    return dict(label=label, x0=x0, y0=y0, w=w, h=h, t=thickness)


def _shape_mask(shape, img_size):
    """Rasterise a shape: a pixel belongs to it iff the pixel centre lies inside.

    Args:
        shape (dict): as returned by :func:`_sample_shape`.
        img_size (int): image side.

    Returns:
        np.ndarray: bool mask of shape (img_size, img_size).
    """
    centers = np.arange(img_size, dtype=np.float64) + 0.5
    px, py = centers[None, :], centers[:, None]
    x0, y0, w, h = shape['x0'], shape['y0'], shape['w'], shape['h']
    cx, cy = x0 + w / 2.0, y0 + h / 2.0
    dx, dy = np.abs(px - cx), np.abs(py - cy)
    name = SYNTHETIC_CLASSES[shape['label']]
    if name == 'square':
        mask = (dx <= w / 2.0) & (dy <= h / 2.0)
    elif name == 'circle':
        mask = dx**2 + dy**2 <= (w / 2.0)**2
    elif name == 'triangle':
        # Apex at the top centre, base at the bottom: half-width grows linearly with y.
        rel_y = (py - y0) / h
        mask = (rel_y >= 0) & (rel_y <= 1) & (dx <= rel_y * (w / 2.0))
    else:  # cross
        half_t, half_s = shape['t'] / 2.0, w / 2.0
        mask = ((dx <= half_t) & (dy <= half_s)) | ((dy <= half_t) & (dx <= half_s))
    return mask


def _shape_keypoints(shape):
    """Geometric keypoints of a shape in continuous pixel coordinates.

    Args:
        shape (dict): as returned by :func:`_sample_shape`.

    Returns:
        np.ndarray: (5, 2) float array ordered like :data:`KEYPOINT_NAMES`.
    """
    x0, y0, w, h = shape['x0'], shape['y0'], shape['w'], shape['h']
    cx, cy = x0 + w / 2.0, y0 + h / 2.0
    if SYNTHETIC_CLASSES[shape['label']] == 'triangle':
        base = y0 + h
        # top = apex, left/right = base corners, bottom = base midpoint, center = centroid.
        return np.array([[cx, y0], [x0 + w, base], [cx, base], [x0, base],
                         [cx, y0 + 2.0 * h / 3.0]])
    return np.array([[cx, y0], [x0 + w, cy], [cx, y0 + h], [x0, cy], [cx, cy]])


def _keypoint_pixel(point, center, img_size):
    """Pixel used to test a keypoint's occlusion: 1 px inwards, towards the centre.

    Keypoints lie on the shape outline (often on a pixel edge), so the pixel right under
    them may belong to the background; stepping inwards lands on the shape itself.
    """
    direction = center - point
    norm = np.hypot(*direction)
    if norm > 0:
        point = point + direction / norm
    col, row = np.clip(np.floor(point).astype(int), 0, img_size - 1)
    return int(row), int(col)


# --------------------------------------------------------------------------------------
# image content
# --------------------------------------------------------------------------------------
def _random_color(rng):
    return rng.integers(0, 256, size=3).astype(np.float64)


def _background(rng, img_size, background='varied'):
    """Draw a solid, gradient, smooth-noise or stripe background (float BGR image).

    ``background='solid'`` draws the same random numbers but always a solid colour, so
    the rest of the image (shapes, colours) is the same as with ``'varied'``.
    """
    kind = rng.integers(4)
    c1, c2 = _random_color(rng), _random_color(rng)
    if kind == 0 or background == 'solid':  # solid
        return np.broadcast_to(c1, (img_size, img_size, 3)).copy()
    grid = np.arange(img_size, dtype=np.float64) / img_size
    if kind == 1:  # linear gradient in a random direction
        angle = rng.uniform(0, 2 * np.pi)
        t = np.cos(angle) * grid[None, :] + np.sin(angle) * grid[:, None]
        t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    elif kind == 2:  # smooth low-frequency noise: a tiny random grid upsampled
        cells = int(rng.integers(3, 8))
        small = rng.random((cells, cells)).astype(np.float32)
        t = cv2.resize(small, (img_size, img_size), interpolation=cv2.INTER_CUBIC)
        t = np.clip(t.astype(np.float64), 0, 1)
    else:  # soft stripes with random frequency and orientation
        angle = rng.uniform(0, np.pi)
        freq = rng.uniform(2, 6)
        phase = np.cos(angle) * grid[None, :] + np.sin(angle) * grid[:, None]
        t = 0.5 + 0.5 * np.sin(2 * np.pi * freq * phase)
    return c1 * (1 - t[..., None]) + c2 * t[..., None]


def _pick_color(rng, avoid):
    """Pick a shape colour far from every colour in ``avoid`` (falls back to the best)."""
    best, best_dist = None, -1.0
    for _ in range(30):
        color = _random_color(rng)
        dist = min(np.linalg.norm(color - a) for a in avoid) if avoid else np.inf
        if dist >= _MIN_COLOR_DISTANCE:
            return color
        if dist > best_dist:
            best, best_dist = color, dist
    return best


def _sample_sizes(rng, img_size, max_shapes=5, min_size_frac=0.1):
    """Sample the bbox sizes of the 1-5 shapes of one image, largest first.

    The first (bottom-most) shape is medium to large, the others are log-uniform from
    small to medium: every image has one easy object, and COCO small / medium / large
    areas are all represented (about 25 / 60 / 15 % at the defaults).

    Args:
        max_shapes (int): at most this many shapes.
        min_size_frac (float): smallest side of the other shapes, fraction of the image.

    Returns:
        list[int]: sizes in pixels, sorted descending (big shapes go underneath).
    """
    num = int(rng.integers(1, max_shapes + 1))
    min_size = max(12, int(round(min_size_frac * img_size)))
    # Crowded images get smaller shapes so that they fit without heavy occlusion.
    max_frac = 0.8 if num <= 2 else 0.6
    first = rng.uniform(0.3, max_frac) * img_size
    others = np.exp(rng.uniform(np.log(min_size), np.log(0.5 * img_size), size=num - 1))
    return sorted((int(round(s)) for s in [first, *others]), reverse=True)


def _place_shapes(rng, img_size, max_shapes=5, min_size_frac=0.1):
    """Place shapes one after another, rejecting placements that hide too much.

    Returns:
        tuple[list[dict], list[np.ndarray]]: the shapes (drawing order) and their full
        (unoccluded) masks.
    """
    shapes, masks = [], []
    for size in _sample_sizes(rng, img_size, max_shapes, min_size_frac):
        label = int(rng.integers(len(SYNTHETIC_CLASSES)))
        for _ in range(30):
            shape = _sample_shape(rng, label, size, img_size)
            mask = _shape_mask(shape, img_size)
            if _keeps_earlier_visible(masks, mask):
                shapes.append(shape)
                masks.append(mask)
                break
    return shapes, masks


def _keeps_earlier_visible(masks, new_mask):
    """True if every earlier shape keeps enough visible pixels under ``new_mask``."""
    covered = new_mask.copy()
    for mask in reversed(masks):  # walk from the top-most earlier shape downwards
        full = mask.sum()
        if (mask & ~covered).sum() < _MIN_VISIBLE_FRACTION * full:
            return False
        covered |= mask
    return True


def _boxes_near(a, b, margin):
    """True if the boxes of shapes ``a`` and ``b`` overlap or are within ``margin`` px."""
    return (a['x0'] - margin < b['x0'] + b['w'] and b['x0'] - margin < a['x0'] + a['w']
            and a['y0'] - margin < b['y0'] + b['h'] and b['y0'] - margin < a['y0'] + a['h'])


def render_image(rng, img_size, max_shapes=5, background='varied', min_size_frac=0.1):
    """Render one image and its instances.

    Args:
        rng (np.random.Generator): the image's generator.
        img_size (int): image side in pixels.
        max_shapes, background, min_size_frac: the easier-variant knobs, see
            :data:`VARIANT_DEFAULTS` (the defaults give the original images).

    Returns:
        tuple[np.ndarray, list[dict]]: the uint8 BGR image and, per instance (drawing
        order), a dict with ``label``, ``visible`` (bool mask) and ``keypoints`` (5x3
        array with COCO visibility 2 = visible, 1 = covered by a later shape).
    """
    image = _background(rng, img_size, background)
    shapes, masks = _place_shapes(rng, img_size, max_shapes, min_size_frac)
    drawn = []  # (shape, colour) of shapes already painted
    for shape, mask in zip(shapes, masks):
        ys, xs = np.nonzero(mask)
        avoid = [image[ys, xs].mean(axis=0)]
        # Overlapping or touching shapes of similar colour would merge into one blob.
        avoid += [c for other, c in drawn if _boxes_near(other, shape, margin=2)]
        color = _pick_color(rng, avoid)
        image[mask] = color
        drawn.append((shape, color))
    # Mild sensor-like noise so that flat regions are not perfectly constant.
    image += rng.normal(0.0, 3.0, size=image.shape)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)

    instances = []
    for i, (shape, mask) in enumerate(zip(shapes, masks)):
        above = np.zeros_like(mask)
        for later in masks[i + 1:]:
            above |= later
        kpts = _shape_keypoints(shape)
        vis = [1 if above[_keypoint_pixel(p, kpts[4], img_size)] else 2 for p in kpts]
        instances.append(
            dict(label=shape['label'], visible=mask & ~above,
                 keypoints=np.concatenate([kpts, np.array(vis)[:, None]], axis=1)))
    return image, instances


# --------------------------------------------------------------------------------------
# masks -> COCO segmentation
# --------------------------------------------------------------------------------------
def mask_to_polygons(mask):
    """Trace the outline of a binary mask along pixel corners.

    ``cv2.findContours`` returns pixel centres, and a polygon through pixel centres loses
    half a pixel all around when pycocotools rasterises it; tracing pixel *corners* gives
    polygons that decode back to exactly ``mask``.

    Args:
        mask (np.ndarray): (H, W) bool/uint8 mask.

    Returns:
        list[list[float]] | None: COCO polygons ``[x1, y1, x2, y2, ...]`` (one per
        4-connected part; empty for an empty mask), or None when the region has a hole
        (COCO polygons are unioned, so holes need RLE).
    """
    # Trace the tight crop only (speed), then shift the corners back.
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return []
    x_off, y_off = int(xs.min()), int(ys.min())
    padded = np.pad(np.asarray(mask, dtype=bool)[y_off:ys.max() + 1, x_off:xs.max() + 1], 1)
    inside = padded[1:-1, 1:-1]
    # Directed unit edges with the inside on the right (clockwise on screen, y down).
    nxt = {}
    for cond, d0, d1 in (
            (inside & ~padded[:-2, 1:-1], (0, 0), (1, 0)),  # top: left -> right
            (inside & ~padded[1:-1, 2:], (1, 0), (1, 1)),  # right: top -> bottom
            (inside & ~padded[2:, 1:-1], (1, 1), (0, 1)),  # bottom: right -> left
            (inside & ~padded[1:-1, :-2], (0, 1), (0, 0))):  # left: bottom -> top
        for y, x in zip(*np.nonzero(cond)):
            x, y = int(x) + x_off, int(y) + y_off
            nxt.setdefault((x + d0[0], y + d0[1]), []).append((x + d1[0], y + d1[1]))
    polygons = []
    while nxt:
        loop = _follow_loop(nxt)
        if _signed_area(loop) <= 0:  # counter-clockwise => a hole
            return None
        polygons.append([float(v) for p in _drop_collinear(loop) for v in p])
    return polygons


def _follow_loop(nxt):
    """Pop one closed loop of edges from ``nxt`` (start corner -> end corners)."""
    start = min(nxt)  # deterministic start
    loop, prev, cur = [start], None, start
    while True:
        ends = nxt[cur]
        end = ends[0] if len(ends) == 1 or prev is None else _turn_right(prev, cur, ends)
        ends.remove(end)
        if not ends:
            del nxt[cur]
        prev, cur = cur, end
        if cur == start:
            return loop
        loop.append(cur)


def _turn_right(prev, cur, ends):
    """At a corner where two regions touch diagonally, take the right turn.

    Turning right (towards the inside) keeps diagonally touching pixels in separate
    loops, i.e. 4-connected components, instead of producing self-touching polygons.
    """
    dx, dy = cur[0] - prev[0], cur[1] - prev[1]
    right = (cur[0] - dy, cur[1] + dx)  # rotate (dx, dy) clockwise on screen
    return right if right in ends else ends[0]


def _signed_area(loop):
    pts = np.asarray(loop, dtype=np.float64)
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _drop_collinear(loop):
    """Keep only the corners where the outline changes direction."""
    pts = np.asarray(loop)
    prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
    keep = np.any((pts - prev) != (nxt - pts), axis=1)
    return [tuple(int(v) for v in p) for p in pts[keep]]


def encode_segmentation(mask):
    """COCO segmentation for a visible mask: exact polygons, else compressed RLE.

    Args:
        mask (np.ndarray): (H, W) bool mask, not empty.

    Returns:
        list | dict: polygons, or ``{'size': [H, W], 'counts': str}``.
    """
    h, w = mask.shape
    polygons = mask_to_polygons(mask)
    if polygons:
        decoded = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, h, w)))
        if np.array_equal(decoded.astype(bool), mask):
            return polygons
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return dict(size=[int(h), int(w)], counts=rle['counts'].decode('ascii'))


def _mask_bbox(mask):
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    return [float(x0), float(y0), float(xs.max() + 1 - x0), float(ys.max() + 1 - y0)]


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------
def _atomic_write(path, data):
    """Write bytes (or str) to ``path`` through a temp file + os.replace."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), prefix='.tmp-')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _dump_json(obj):
    # Sorted keys and fixed separators: byte-identical output for identical content.
    return json.dumps(obj, sort_keys=True, separators=(',', ':'))


def coco_categories():
    """COCO ``categories`` entries (ids 1..4) with keypoint names and skeleton."""
    return [
        dict(id=i + 1, name=name, supercategory='shape', keypoints=list(KEYPOINT_NAMES),
             skeleton=[list(link) for link in SKELETON])
        for i, name in enumerate(SYNTHETIC_CLASSES)
    ]


def _image_rng(seed, split, index):
    # Independent stream per image: the val split does not depend on num_train.
    return np.random.default_rng(np.random.SeedSequence([seed, _SPLITS.index(split), index]))


def _annotation(inst, ann_id, image_id):
    visible = inst['visible']
    kpts = inst['keypoints']
    flat = []
    for x, y, v in kpts:
        flat += [round(float(x), 2), round(float(y), 2), int(v)]
    return dict(
        id=ann_id, image_id=image_id, category_id=int(inst['label']) + 1,
        bbox=_mask_bbox(visible), area=float(visible.sum()),
        segmentation=encode_segmentation(visible), iscrowd=0,
        keypoints=flat, num_keypoints=int((kpts[:, 2] > 0).sum()))


def _voc_xml(file_name, img_size, objects):
    """Pascal VOC annotation; ``objects`` holds (name, [x, y, w, h]) in COCO pixels."""
    lines = ['<annotation>', '  <folder>VOC2007</folder>',
             f'  <filename>{escape(file_name)}</filename>',
             '  <source><database>lth_mm synthetic shapes</database></source>',
             f'  <size><width>{img_size}</width><height>{img_size}</height>'
             '<depth>3</depth></size>', '  <segmented>0</segmented>']
    for name, (x, y, w, h) in objects:
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


def _generate_split(out_dir, split, num_images, params):
    """Render one split, write its images (+ VOC files) and return its COCO dict."""
    img_size = params['img_size']
    images, annotations = [], []
    voc_ids = []
    for index in range(num_images):
        variant = {k: params.get(k, v) for k, v in VARIANT_DEFAULTS.items()}
        image, instances = render_image(_image_rng(params['seed'], split, index), img_size,
                                        **variant)
        stem = f'{split}_{index:06d}'
        file_name = f'{stem}.jpg'
        ok, buf = cv2.imencode('.jpg', image, [int(cv2.IMWRITE_JPEG_QUALITY), _JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f'cv2 could not encode {file_name}')
        data = buf.tobytes()
        _atomic_write(osp.join(out_dir, 'images', split, file_name), data)
        image_id = index + 1
        images.append(dict(id=image_id, file_name=file_name, width=img_size, height=img_size))
        anns = [_annotation(inst, len(annotations) + k + 1, image_id)
                for k, inst in enumerate(instances)]
        annotations += anns
        if params['voc']:
            voc_root = osp.join(out_dir, 'VOCdevkit', 'VOC2007')
            _atomic_write(osp.join(voc_root, 'JPEGImages', file_name), data)
            objects = [(SYNTHETIC_CLASSES[a['category_id'] - 1], a['bbox']) for a in anns]
            _atomic_write(osp.join(voc_root, 'Annotations', f'{stem}.xml'),
                          _voc_xml(file_name, img_size, objects))
            voc_ids.append(stem)
    if params['voc']:
        _atomic_write(
            osp.join(out_dir, 'VOCdevkit', 'VOC2007', 'ImageSets', 'Main',
                     f'{_VOC_SPLIT_FILE[split]}.txt'), ''.join(f'{i}\n' for i in voc_ids))
    return dict(
        info=dict(description='lth_mm synthetic shapes', version=str(FORMAT_VERSION),
                  contributor='lth_mm', params=params),
        licenses=[], images=images, annotations=annotations,
        categories=coco_categories())


def _area_counts(annotations):
    counts = dict(small=0, medium=0, large=0)
    for ann in annotations:
        area = ann['area']
        counts['small' if area < 32**2 else 'medium' if area <= 96**2 else 'large'] += 1
    return counts


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
    dirs = [osp.join(out_dir, 'annotations')] + [osp.join(out_dir, 'images', s) for s in _SPLITS]
    if params['voc']:
        voc_root = osp.join(out_dir, 'VOCdevkit', 'VOC2007')
        dirs += [osp.join(voc_root, d) for d in ('JPEGImages', 'Annotations', 'ImageSets/Main')]
    for d in dirs:
        os.makedirs(d, exist_ok=True)

    stats = {}
    for split, num in zip(_SPLITS, (params['num_train'], params['num_val'])):
        coco = _generate_split(out_dir, split, num, params)
        _atomic_write(osp.join(out_dir, 'annotations', f'instances_{split}.json'),
                      _dump_json(coco))
        stats[split] = dict(images=len(coco['images']),
                            instances=len(coco['annotations']),
                            areas=_area_counts(coco['annotations']))
    meta = dict(format_version=FORMAT_VERSION, generator='lth_mm.datasets.synthetic',
                params=params, stats=stats, classes=list(SYNTHETIC_CLASSES),
                keypoints=list(KEYPOINT_NAMES))
    # meta.json last: its presence marks a complete dataset.
    _atomic_write(osp.join(out_dir, 'meta.json'), _dump_json(meta))
    return meta


# --------------------------------------------------------------------------------------
# generate on first use
# --------------------------------------------------------------------------------------
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
    """Validate an existing ``out_dir``; True if it is a matching synthetic dataset.

    Returns False only if the folder does not exist or is empty (safe to create).
    """
    if not osp.exists(out_dir):
        return False
    meta_path = osp.join(out_dir, 'meta.json')
    if not osp.isfile(meta_path):
        if osp.isdir(out_dir) and not os.listdir(out_dir):
            return False
        raise ValueError(
            f'{out_dir} exists but has no meta.json, so it is not an lth_mm synthetic '
            'dataset; it is left untouched. Use another data_root for the synthetic data.')
    with open(meta_path, encoding='utf-8') as f:
        meta = json.load(f)
    diffs = _param_mismatch(meta, params)
    if diffs:
        raise ValueError(
            f'the synthetic dataset at {out_dir} was generated with different parameters: '
            f"{'; '.join(diffs)}. It is left untouched. Use another data_root for these "
            'parameters, or delete that folder to regenerate it.')
    return True


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
    out_dir = osp.abspath(osp.expanduser(str(out_dir)))
    if _check_existing(out_dir, params):  # fast path, no lock needed
        return out_dir
    parent = osp.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    # The lock file stays: deleting it would let a late process lock a different inode.
    with _file_lock(out_dir + '.lock'):
        if _check_existing(out_dir, params):  # another process generated it meanwhile
            return out_dir
        _log(f'lth_mm: generating the synthetic dataset {params} at {out_dir}')
        tmp = tempfile.mkdtemp(dir=parent, prefix=f'.{osp.basename(out_dir)}.tmp-')
        try:
            generate_synthetic_dataset(tmp, **params)
            os.chmod(tmp, 0o755)  # mkdtemp makes 0o700
            if osp.isdir(out_dir):  # an empty folder (checked above): replace it
                os.rmdir(out_dir)
            os.rename(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out_dir


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


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------
def parse_args(argv=None):
    d = DEFAULT_SYNTHETIC
    parser = argparse.ArgumentParser(
        description='Generate the lth_mm synthetic shapes dataset (COCO json with boxes, '
        'masks and keypoints, plus a Pascal VOC copy). An existing matching dataset is '
        'reused; a mismatching one is an error and is never overwritten.')
    parser.add_argument('--out', default='data/lth_synthetic',
                        help='output folder (default: data/lth_synthetic)')
    parser.add_argument('--num-train', type=int, default=d['num_train'])
    parser.add_argument('--num-val', type=int, default=d['num_val'])
    parser.add_argument('--img-size', type=int, default=d['img_size'])
    parser.add_argument('--seed', type=int, default=d['seed'])
    parser.add_argument('--no-voc', action='store_true', help='skip the VOC layout')
    return parser.parse_args(argv)


def main(argv=None):
    """CLI entry point; returns a process exit code."""
    args = parse_args(argv)
    try:
        root = ensure_synthetic_dataset(
            args.out, num_train=args.num_train, num_val=args.num_val,
            img_size=args.img_size, seed=args.seed, voc=not args.no_voc)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    with open(osp.join(root, 'meta.json'), encoding='utf-8') as f:
        meta = json.load(f)
    print(f'synthetic dataset ready at {root}')
    for split, stats in meta['stats'].items():
        print(f"  {split}: {stats['images']} images, {stats['instances']} instances, "
              f"areas {stats['areas']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
