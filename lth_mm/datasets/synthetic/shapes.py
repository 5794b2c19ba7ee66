# Copyright (c) lth_mm authors. All rights reserved.
"""Shape geometry: sampling a shape, its pixel mask and its 5 keypoints.

Shapes are axis aligned and rasterised without anti-aliasing: a pixel belongs to a shape
iff its centre lies inside the analytic outline, so the mask a model should predict is
exactly the set of pixels that changed colour.
"""
import numpy as np

from .params import SYNTHETIC_CLASSES


def sample_shape(rng, label, size, img_size):
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


def shape_mask(shape, img_size):
    """Rasterise a shape: a pixel belongs to it iff the pixel centre lies inside.

    Args:
        shape (dict): as returned by :func:`sample_shape`.
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


def shape_keypoints(shape):
    """Geometric keypoints of a shape in continuous pixel coordinates.

    Args:
        shape (dict): as returned by :func:`sample_shape`.

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


def keypoint_pixel(point, center, img_size):
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

