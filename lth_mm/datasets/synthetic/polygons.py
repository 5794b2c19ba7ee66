# Copyright (c) lth_mm authors. All rights reserved.
"""Binary masks to exact COCO segmentations (pixel-corner polygons, else RLE) and boxes.

The polygons are traced along pixel corners, so ``annToMask`` reproduces the visible mask
exactly and ``area`` is the exact visible pixel count.
"""
import numpy as np
from pycocotools import mask as mask_utils


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


def mask_bbox(mask):
    """The tight box ``[x, y, w, h]`` (COCO, float pixels) of a non-empty mask."""
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    return [float(x0), float(y0), float(xs.max() + 1 - x0), float(ys.max() + 1 - y0)]

