# Copyright (c) lth_mm authors. All rights reserved.
"""The paper's analyses, offline, from a lottery work_dir (pure functions + matplotlib).

* :mod:`.coco_breakdown`: COCOeval runs and the size / frequency / difficulty breakdowns
  built on its precision array (Figs 4-5);
* :mod:`.tide`: TIDE error attribution through ``tidecv`` (Figs 7-8);
* :mod:`.keypoint_errors`: the Ronchi & Perona keypoint error taxonomy on pycocotools
  (Fig. 9);
* :mod:`.early_bird`: mask distances and You et al.'s early-bird rule (Fig. 2f);
* :mod:`.layers`: per-layer pruning statistics of a ticket (Fig. 2c);
* :mod:`.collect`: reading a work_dir's artefacts; :mod:`.plots`: the figures;
  :mod:`.report`: ``report.md`` / ``report.html``.

Nothing here imports mmengine's runner: the hooks in :mod:`lth_mm.engine.hooks` write the
artefacts, these modules read them.
"""
from .coco_breakdown import (coco_eval, frequency_bins, difficulty_bins, percent_change,
                             per_category_ap)
from .early_bird import EarlyBirdTracker, mask_hamming, mask_iou, stable_from
from .keypoint_errors import keypoint_error_analysis
from .layers import per_layer_stats

__all__ = [
    'coco_eval', 'per_category_ap', 'percent_change', 'frequency_bins', 'difficulty_bins',
    'EarlyBirdTracker', 'mask_hamming', 'mask_iou', 'stable_from', 'keypoint_error_analysis',
    'per_layer_stats'
]
