# Copyright (c) lth_mm authors. All rights reserved.
"""Early-bird maths (You et al., ICLR 2020): distances between pruning masks (pure numpy).

A mask is one boolean per prunable weight, all tensors flattened and concatenated in a
fixed order; the hook keeps them bit-packed (``numpy.packbits``), 1 bit a weight.
"""
from collections import deque
from typing import List, Optional, Sequence

import numpy as np


def _bits(mask) -> np.ndarray:
    return np.asarray(mask, dtype=bool).ravel()


def mask_hamming(a, b) -> float:
    """Normalised Hamming distance: the fraction of positions where two masks differ.

    Args:
        a: boolean mask (any shape).
        b: boolean mask with as many elements.

    Returns:
        float: in [0, 1].
    """
    a, b = _bits(a), _bits(b)
    if a.size != b.size:
        raise ValueError(f'masks of different sizes: {a.size} vs {b.size}.')
    return float(np.count_nonzero(a ^ b)) / max(a.size, 1)


def mask_iou(a, b) -> float:
    """Intersection over union of the kept positions of two masks (1.0 for two empty ones)."""
    a, b = _bits(a), _bits(b)
    if a.size != b.size:
        raise ValueError(f'masks of different sizes: {a.size} vs {b.size}.')
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b)) / union if union else 1.0


def packed_hamming(a: np.ndarray, b: np.ndarray, n: int) -> float:
    """:func:`mask_hamming` of two ``numpy.packbits`` masks of ``n`` bits (no unpacking)."""
    return float(np.unpackbits(np.bitwise_xor(a, b), count=n).sum()) / max(n, 1)


def packed_iou(a: np.ndarray, b: np.ndarray, n: int) -> float:
    """:func:`mask_iou` of two ``numpy.packbits`` masks of ``n`` bits."""
    union = int(np.unpackbits(np.bitwise_or(a, b), count=n).sum())
    inter = int(np.unpackbits(np.bitwise_and(a, b), count=n).sum())
    return inter / union if union else 1.0


def stable_from(ious_with_final: Sequence[float], threshold: float = 0.95) -> Optional[int]:
    """The first index from which every IoU with the final mask stays >= ``threshold``.

    Args:
        ious_with_final: IoU of each recorded mask with the final one, in time order.
        threshold: the IoU to stay above.

    Returns:
        int | None: the index, or None when even the last one is below the threshold.
    """
    first = None
    for i, v in enumerate(ious_with_final):
        if v >= threshold:
            if first is None:
                first = i
        else:
            first = None
    return first


class EarlyBirdTracker:
    """You et al.'s rule: draw the ticket when the newest mask is within ``eps`` normalised
    Hamming distance of each of the previous ``window - 1`` masks (a FIFO of ``window``).

    Args:
        eps: the distance threshold (the paper: 0.1).
        window: FIFO length including the newest mask (the paper: 5).
    """

    def __init__(self, eps: float = 0.1, window: int = 5):
        if not 0 <= eps <= 1:
            raise ValueError(f'early-bird eps must be in [0, 1], got {eps!r}.')
        if int(window) < 2:
            raise ValueError(f'early-bird window must be >= 2, got {window!r}.')
        self.eps, self.window = float(eps), int(window)
        self.fifo = deque(maxlen=self.window)

    def update(self, mask) -> dict:
        """Add the newest mask; return its distances to the previous ones and the decision.

        Args:
            mask: boolean mask (flattened over all prunable tensors); kept bit-packed.

        Returns:
            dict: ``distances`` (to the previous masks in the FIFO, newest first),
            ``max_distance`` (None until the FIFO is full) and ``converged`` (bool).
        """
        bits = _bits(mask)
        n = bits.size
        packed = np.packbits(bits)
        prev = list(self.fifo)[-(self.window - 1):][::-1]  # the previous window-1, newest first
        dists = [packed_hamming(packed, p, n) for p in prev]
        self.fifo.append(packed)
        full = len(prev) == self.window - 1
        max_d = max(dists) if full else None
        return {'distances': dists, 'max_distance': max_d,
                'converged': bool(full and max_d <= self.eps)}


def iou_from_hamming(density: float, hamming: float) -> float:
    """IoU of two masks of equal density ``d`` at normalised Hamming distance ``h``:
    ``(d - h/2) / (d + h/2)`` (each mask keeps d, they differ in h, so h/2 from each)."""
    return (density - hamming / 2) / (density + hamming / 2) if density + hamming else 1.0


def first_converged(records: List[dict]) -> Optional[int]:
    """Index of the first record whose ``converged`` flag is set, or None."""
    for i, r in enumerate(records):
        if r.get('converged'):
            return i
    return None
