# Copyright (c) lth_mm authors. All rights reserved.
"""Helpers shared by the tiny recipes: synthetic data, shrinking, run settings, a probe hook.

Every recipe starts from a config that mmdet / mmpose / mmpretrain ship (loaded with
``mmengine.hub.get_config('mmdet::...')``) and changes only what makes it tiny and offline: the
data (lth_mm's synthetic shapes), widths and depths, image sizes, the length of the
schedule, and pretrained ``init_cfg`` (no internet). Transform types and order, hooks,
samplers, losses, optimizers and scheduler types stay as shipped, because those are what
the lottery engine must survive.
"""
import copy
import os.path as osp

from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.hub import get_config
from mmengine.registry import HOOKS

# One small synthetic set serves every detection and pose recipe: 8 train and 2 val
# images of 64 px with 1-5 shapes each (boxes, masks and 5 keypoints per shape).
SHAPES = dict(num_train=8, num_val=2, img_size=64, seed=0, voc=False)
# The second source of the multi-source recipe: the same distribution, other images.
SHAPES_B = dict(SHAPES, seed=1)
# Classification crops (32 px) of another small set of shapes, for mmpretrain.
CROPS = dict(num_train=8, num_val=4, img_size=64, seed=1, voc=False, crop_size=32)

# Sub-folders of the recipes' data root, one per parameter set: lth_mm refuses to reuse a
# synthetic root generated with other parameters.
SHAPES_DIR, SHAPES_B_DIR, CROPS_DIR = 'shapes64', 'shapes64_b', 'crops32'

# Top-level keys a Runner reads (Runner.from_cfg), plus custom_imports for a fresh process.
# Everything else in a shipped config (the intermediate variables: train_pipeline, codec,
# img_scale, ...; tta_model, tta_pipeline) is dropped: mmengine formats the whole config
# with yapf when it logs it, dumps it, and in every checkpoint, which took most of a
# tiny run's time (DINO: ~8 s a time for its lists of scales).
_RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader',
    'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
    'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'custom_imports'})

# Keys of pipeline transforms that hold image sizes in pixels (mmdet, mmpose, mmpretrain).
_SIZE_KEYS = frozenset(
    {'img_scale', 'scale', 'scales', 'crop_size', 'size', 'border', 'input_size'})


def shipped(path):
    """The config an OpenMMLab package ships, e.g. ``shipped('mmdet::yolox/...py')``
    (``Config.fromfile`` itself does not resolve the ``package::`` prefix)."""
    return get_config(path)


def data_dir(data_root, sub):
    """``data_root/sub/`` with a trailing slash, as OpenMMLab configs write data roots."""
    return osp.join(osp.abspath(str(data_root)), sub) + '/'


def scale_sizes(obj, factor):
    """A copy of a pipeline (or any config value) with every pixel size times ``factor``.

    Only values under the keys of :data:`_SIZE_KEYS` change (nested anywhere, e.g. inside
    ``RandomChoice`` or ``MultiBranch``); negative sizes (YOLOX's ``RandomAffine`` border)
    keep their sign. Everything else, transform types and order included, is untouched.
    """
    if isinstance(obj, dict):
        return {k: (_scale_value(v, factor) if k in _SIZE_KEYS else scale_sizes(v, factor))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(scale_sizes(v, factor) for v in obj)
    return obj


def _scale_value(value, factor):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return int(round(value * factor))
    if isinstance(value, (list, tuple)):
        return type(value)(_scale_value(v, factor) for v in value)
    return value


def drop_pretrained(obj):
    """Set every ``init_cfg`` that loads weights (``Pretrained`` or with a ``checkpoint``)
    to None, in place, anywhere in a config: loading would try to download.

    Initialisers that compute weights (Kaiming, Normal, ...) are part of the recipe and stay.
    """
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == 'init_cfg' and _loads_weights(value):
                obj[key] = None
            else:
                drop_pretrained(value)
    elif isinstance(obj, list):
        for value in obj:
            drop_pretrained(value)
    return obj


def _loads_weights(init_cfg):
    items = init_cfg if isinstance(init_cfg, list) else [init_cfg]
    return any(isinstance(i, dict) and (i.get('type') == 'Pretrained' or 'checkpoint' in i)
               for i in items)


def find_hook(cfg, hook_type):
    """The custom hook of ``cfg`` whose type ends with ``hook_type`` (scopes ignored)."""
    found = [h for h in cfg.custom_hooks if h['type'].split('.')[-1] == hook_type]
    assert len(found) == 1, f'{hook_type} expected once in {cfg.custom_hooks}'
    return found[0]


def shorten_schedule(cfg, max_epochs, *, warmup_end, cosine_begin, constant_epochs=0,
                     t_max=None):
    """A recipe's warm-up, cosine and (YOLOX-style) constant tail on ``max_epochs`` (in place).

    Args:
        warmup_end (int): where the warm-up (the first scheduler) ends, in its unit.
        cosine_begin (int): the epoch the cosine (second scheduler) begins.
        constant_epochs (int): length of the constant tail (a third scheduler) at the end.
        t_max (int, optional): the cosine's ``T_max``; defaults to its length (YOLOX
            recipes write ``max_epochs - num_last_epochs``).
    """
    warmup, cosine, *tail = cfg.param_scheduler
    warmup.end = warmup_end
    cosine_end = max_epochs - constant_epochs
    cosine.update(begin=cosine_begin, end=cosine_end, T_max=t_max or cosine_end - cosine_begin)
    for constant in tail:
        constant.update(begin=cosine_end, end=max_epochs)


def switch_pipeline_for_last(cfg, max_epochs, stage2_epochs, shrink):
    """PipelineSwitchHook to the recipe's stage-2 pipeline (shrunk by ``shrink``) for the
    last ``stage2_epochs`` epochs, as the shipped recipe does for its last ones."""
    switch = find_hook(cfg, 'PipelineSwitchHook')
    switch.update(switch_epoch=max_epochs - stage2_epochs,
                  switch_pipeline=shrink(switch.switch_pipeline))


def finalize(cfg, work_dir, *, by_epoch, length, ckpt_interval=None, val_interval=None):
    """Run settings common to all recipes.

    Args:
        by_epoch (bool): whether the recipe's loop counts epochs (else iterations).
        length (int): ``max_epochs`` or ``max_iters`` (the train_cfg must already hold the
            recipe's own other keys, e.g. ``dynamic_intervals``).
        ckpt_interval (int): CheckpointHook interval, in the loop's unit; defaults to
            ``length`` (one checkpoint, at the end: each one costs a formatted copy of the
            config). Tests that kill and resume override it.
        val_interval (int): validation interval; defaults to ``length`` (once, at the end).

    Returns:
        Config: ``cfg`` with those settings, its text not yapf-formatted (mmengine formats
        it whenever it logs, dumps or saves it in a checkpoint: seconds a time).
    """
    cfg.work_dir = str(work_dir)
    cfg.train_cfg['max_epochs' if by_epoch else 'max_iters'] = length
    cfg.train_cfg['val_interval'] = val_interval or length
    cfg.custom_hooks = list(cfg.get('custom_hooks', []))  # a key to append a probe to
    cfg.val_cfg = dict(type='ValLoop')
    cfg.test_cfg = dict(type='TestLoop')
    for name in ('train_dataloader', 'val_dataloader'):
        # Worker processes cost seconds to start on 2 shared cores; tests that need workers
        # override num_workers (and persistent_workers) themselves.
        cfg[name].update(num_workers=0, persistent_workers=False, pin_memory=False)
    cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
    cfg.test_evaluator = copy.deepcopy(cfg.val_evaluator)
    cfg.default_hooks.checkpoint.update(interval=ckpt_interval or length, by_epoch=by_epoch)
    cfg.default_hooks.logger.interval = 1  # every loss reaches the message hub's history
    cfg.log_processor = dict(cfg.get('log_processor', {}), by_epoch=by_epoch)
    cfg.randomness = dict(seed=cfg.get('randomness', {}).get('seed', 0))
    cfg.env_cfg = dict(cfg.get('env_cfg', {}), cudnn_benchmark=False)
    cfg.launcher = 'none'
    cfg.load_from = None
    cfg.resume = False
    # The synthetic datasets are registered by lth_mm (in a fresh process too).
    cfg.custom_imports = dict(imports=['lth_mm'], allow_failed_imports=False)
    drop_pretrained(cfg.model)
    for key in set(cfg.keys()) - _RUNNER_KEYS:
        cfg.pop(key)
    return Config(cfg.to_dict(), cfg_text=cfg.text, filename=cfg.filename,
                  format_python_code=False)


@HOOKS.register_module(force=True)
class RecipeProbeHook(Hook):
    """Records runner attributes at the start of every train epoch (or iteration).

    Runs with the lowest priority, so it sees what the recipe's own hooks (mode switches,
    pipeline switches) set up for that epoch. Tests read ``hook.records``.

    Args:
        paths (dict): name -> dotted attribute path from the runner, e.g.
            ``{'use_l1': 'model.bbox_head.use_l1'}``. A list of objects (a pipeline's
            transforms) is recorded as their class names; an unresolvable path as None.
        every (str): ``'epoch'`` or ``'iter'``.
        batch_paths (bool): also record the ``img_path`` of every sample of every batch.
    """

    priority = 'LOWEST'

    def __init__(self, paths, every='epoch', batch_paths=False):
        assert every in ('epoch', 'iter')
        self.paths, self.every, self.batch_paths = dict(paths), every, batch_paths
        self.records, self.batches = [], []

    def _record(self, runner):
        row = dict(epoch=runner.epoch, iter=runner.iter)
        for name, path in self.paths.items():
            row[name] = _snapshot(_resolve(runner, path))
        self.records.append(row)

    def before_train_epoch(self, runner):
        if self.every == 'epoch':
            self._record(runner)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.every == 'iter':
            self._record(runner)
        if self.batch_paths:
            self.batches.append([s.metainfo.get('img_path') for s in data_batch['data_samples']])


def _resolve(obj, path):
    for part in path.split('.'):
        if part.isdigit() and isinstance(obj, (list, tuple)):
            obj = obj[int(part)] if int(part) < len(obj) else None
        else:
            obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _snapshot(value):
    if isinstance(value, (list, tuple)) and value and not isinstance(
            value[0], (int, float, str, bool)):
        return [type(v).__name__ for v in value]
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return f'<{type(value).__name__} {id(value):#x}>'  # identity: was the object replaced?
