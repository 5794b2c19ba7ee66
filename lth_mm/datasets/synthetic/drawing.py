# Copyright (c) lth_mm authors. All rights reserved.
"""Rendering one synthetic image: background, non-occluding shape placement, colours.

Each image is drawn from its own generator (:func:`~.params.image_rng`), so the output
is identical for the same parameters. The order of the random draws is part of the data:
changing it changes every image (tests/test_synthetic_hashes.py).
"""
import cv2
import numpy as np

from .params import SYNTHETIC_CLASSES
from .shapes import keypoint_pixel, sample_shape, shape_keypoints, shape_mask

# An earlier instance must keep this fraction of its pixels visible after later ones are
# drawn on top; heavy occlusion would make boxes and masks ambiguous for a tiny model.
_MIN_VISIBLE_FRACTION = 0.55
# A shape colour must be at least this far (L2 in BGR) from the background and from any
# shape it overlaps, otherwise its outline would be invisible.
_MIN_COLOR_DISTANCE = 110.0


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
            shape = sample_shape(rng, label, size, img_size)
            mask = shape_mask(shape, img_size)
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
        kpts = shape_keypoints(shape)
        vis = [1 if above[keypoint_pixel(p, kpts[4], img_size)] else 2 for p in kpts]
        instances.append(
            dict(label=shape['label'], visible=mask & ~above,
                 keypoints=np.concatenate([kpts, np.array(vis)[:, None]], axis=1)))
    return image, instances

