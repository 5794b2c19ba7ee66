# Copyright (c) lth_mm authors. All rights reserved.
"""The config zoo: its folders, its configs in table order, and a cache of built models."""
import contextlib
import copy
import functools
import json
import os
import os.path as osp
import re
from collections import OrderedDict

_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))
# The folder holding configs/: the checkout, or the package's .mim copy once installed.
REPO = (osp.dirname(_PACKAGE) if osp.isdir(osp.join(osp.dirname(_PACKAGE), 'configs'))
        else osp.join(_PACKAGE, '.mim'))

# Folder -> table title, in README order.
FAMILIES = OrderedDict([
    ('faster_rcnn', 'COCO detection: Faster R-CNN FPN, 1x (box AP)'),
    ('mask_rcnn', 'COCO instance segmentation: Mask R-CNN FPN, 1x (box / mask AP)'),
    ('topdown_heatmap',
     'COCO keypoints: top-down heatmap (SimpleBaseline), 256x192, 210 epochs (keypoint AP)'),
    ('pascal_voc', 'Pascal VOC 2007 (the paper\'s setting): Faster R-CNN R18-C4 (the paper\'s '
     'model) and FPN (ours), 12 epochs at batch 12 (VOC07 mAP)'),
    ('quickstart', 'Quickstart: embedded synthetic shapes, CPU'),
])
_GROUP_TAGS = ('backbone', 'base', 'top', 'rpn', 'boxhead', 'boxcls', 'layerwise')


def _table_order(path):
    """Sort key of a config within its family table: backbone, then dense, one-shot tickets
    (keep 50/20/10), iterative, controls, module ablations, rewind sweep."""
    stem = osp.splitext(osp.basename(path))[0]
    family = path.replace(os.sep, '/').split('/')[-2]
    arch, _, rest = stem.partition('_lth-')
    parts = rest.split('_')[0].split('-')
    default_rw = {'pascal_voc': 'rw600it', 'topdown_heatmap': 'rw2ep'}.get(family, 'rw1ep')
    keep = next((int(p[4:]) for p in parts if re.fullmatch(r'keep\d+', p)), 100)
    rw = next((p for p in parts if p.startswith('rw')), default_rw)
    if 'dense' in parts:
        rank = (0, 0, 0)
    elif any(p.startswith('iter') for p in parts):
        rank = (2, -keep, [p for p in parts if p.startswith('iter')])
    elif 'randctrl' in parts:
        rank = (3, -keep, 0)
    elif any(p in _GROUP_TAGS for p in parts):
        tags = [_GROUP_TAGS.index(p) for p in parts if p in _GROUP_TAGS]
        rank = (4, len(tags), tags, -keep)
    elif rw != default_rw:
        num = re.sub(r'[^0-9]', '', rw)
        rank = (5, int(num) if num else 0, 0)
    else:
        rank = (1, -keep, 0)
    return (arch, rank, stem)


def zoo_configs(configs_root=None):
    """Paths (relative to the repository) of every config in the zoo folders.

    Args:
        configs_root (str, optional): the ``configs`` folder; default: this checkout's.

    Returns:
        list[str]: ``configs/<family>/<name>.py``, in table order (family, then name).
    """
    root = configs_root or osp.join(REPO, 'configs')
    out = []
    for family in FAMILIES:
        folder = osp.join(root, family)
        if not osp.isdir(folder):
            continue
        names = [osp.join('configs', family, n) for n in os.listdir(folder)
                 if n.endswith('.py')]
        out += sorted(names, key=_table_order)
    return out


def load_config(path):
    """``Config.fromfile`` of a zoo config (path relative to the repository or absolute)."""
    from mmengine.config import Config
    return Config.fromfile(path if osp.isabs(path) else osp.join(REPO, path))


_EXTERNAL_BASES = {}


@contextlib.contextmanager
def memoized_external_bases():
    """Resolve each ``mmdet::`` / ``mmpose::`` base path once while loading many configs.

    mmengine looks every ``pkg::path`` up in the package's model index first, which parses
    all of its metafiles (about 400 YAML files for mmdet, 0.5 s) for every such base of
    every config; the answer (a path, or the ValueError that sends a ``_base_`` file to
    the plain folder lookup) only depends on the arguments and the installed packages,
    so it is remembered for the life of the process. Without the private mmengine
    function this does nothing.
    """
    from mmengine.config import config as config_module
    original = getattr(config_module, '_get_external_cfg_path', None)
    if original is None or getattr(original, '__wrapped__', None) is not None:
        yield  # not there, or already memoized by an enclosing call
        return
    memo = _EXTERNAL_BASES

    @functools.wraps(original)
    def lookup(package_path, cfg_file):
        key = (package_path, cfg_file)
        if key not in memo:
            try:
                memo[key] = (True, original(package_path, cfg_file))
            except ValueError as e:
                memo[key] = (False, e)
        ok, value = memo[key]
        if ok:
            return value
        raise ValueError(*value.args)

    config_module._get_external_cfg_path = lookup
    try:
        yield
    finally:
        config_module._get_external_cfg_path = original


def lottery_settings(cfg):
    """The validated :class:`~lth_mm.pruning.LotterySettings` of a config."""
    from lth_mm.pruning import LotterySettings
    return LotterySettings.from_dict(cfg.get('lottery'))


def _model_key(cfg):
    from lth_mm.apis import strip_init_cfg
    model = strip_init_cfg(copy.deepcopy(cfg.model.to_dict()))
    return json.dumps([cfg.get('default_scope', 'mmdet'), model], sort_keys=True, default=str)


class ModelCache:
    """Loads each config and builds each distinct model once (many configs share one)."""

    def __init__(self):
        self._configs = {}
        self._models = {}
        self._counts = {}

    def config(self, path):
        """The loaded config at ``path`` (a copy: callers may modify it)."""
        if path not in self._configs:
            with memoized_external_bases():
                self._configs[path] = load_config(path)
        return copy.deepcopy(self._configs[path])

    def model(self, cfg):
        """The model of ``cfg`` (``init_cfg`` removed), built once per distinct model."""
        key = _model_key(cfg)
        if key not in self._models:
            from lth_mm.apis import build_model_from_cfg
            self._models[key] = build_model_from_cfg(cfg)
        return self._models[key]

    def counts(self, cfg, scope):
        """``(N_prunable, N_total)`` of the config's model under ``scope`` (a dict)."""
        key = (_model_key(cfg), json.dumps(scope, sort_keys=True))
        if key not in self._counts:
            from lth_mm.pruning import count_parameters, select_prunable
            model = self.model(cfg)
            params = dict(model.named_parameters())
            names = select_prunable(model, **scope)
            self._counts[key] = (sum(params[n].numel() for n in names),
                                 count_parameters(model))
        return self._counts[key]
