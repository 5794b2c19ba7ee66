# Copyright (c) lth_mm authors. All rights reserved.
"""The synthetic shapes' facts: classes, keypoints, generation parameters and their check."""
import numpy as np

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
_MIN_IMG_SIZE = 64

# Train and val are generated independently (see image_rng), in this order.
SPLITS = ('train', 'val')


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


def image_rng(seed, split, index):
    """The random generator of one image.

    Every image has its own stream, seeded with ``(seed, split, index)``: the val split
    does not change when ``num_train`` does.

    Args:
        seed (int): the dataset's seed.
        split (str): ``'train'`` or ``'val'``.
        index (int): 0-based image index within the split.

    Returns:
        np.random.Generator: the image's generator.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, SPLITS.index(split), index]))
