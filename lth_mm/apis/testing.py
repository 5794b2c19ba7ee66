# Copyright (c) lth_mm authors. All rights reserved.
"""What ``tools/test.py`` does: evaluate a checkpoint (e.g. a winning ticket) with a config.

The command line follows MMDetection 3.x's ``tools/test.py``; ``--show-dir`` drives
``DetVisualizationHook`` or ``PoseVisualizationHook`` after the config's ``default_scope``.
"""
import sys
import warnings
from copy import deepcopy
from typing import Mapping, Optional, Sequence

from mmengine.config import Config, ConfigDict

from .common import check_run_files, check_tool_files, parse_cfg_options
from .training import apply_run_options, build_runner, setup_dynamo_cache_limit, type_name


def trigger_visualization_hook(cfg: Config, show: bool = False,
                               show_dir: Optional[str] = None,
                               wait_time: float = 2) -> Config:
    """Turn on the config's visualization hook for ``--show`` / ``--show-dir``.

    ``DetVisualizationHook`` (mmdet) draws when ``draw=True`` and writes to
    ``test_out_dir``; ``PoseVisualizationHook`` (mmpose) uses ``enable`` and ``out_dir``.
    Both take a path relative to ``work_dir/<timestamp>``.

    Args:
        cfg: the config (changed in place and returned).
        show: ``--show``: display the results.
        show_dir: ``--show-dir``: where the painted images go.
        wait_time: ``--wait-time``: seconds each shown image stays.

    Returns:
        Config: ``cfg``.
    """
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        sys.exit('error: --show/--show-dir need a visualization hook in `default_hooks`, '
                 "e.g. visualization=dict(type='DetVisualizationHook') for mmdet or "
                 "dict(type='PoseVisualizationHook') for mmpose.")
    if type_name(hook.get('type', '')).endswith('PoseVisualizationHook'):
        hook.enable = True
        hook.show = show
        if show:
            hook.wait_time = wait_time
        if show_dir:
            hook.out_dir = show_dir
    else:
        hook.draw = True
        if show:
            hook.show = True
            hook.wait_time = wait_time
        if show_dir:
            hook.test_out_dir = show_dir
    return cfg


def enable_det_tta(cfg: Config) -> Config:
    """Wrap the model for flip test-time augmentation, as mmdet's test.py does."""
    if 'tta_model' not in cfg:
        warnings.warn('Cannot find ``tta_model`` in config, we will set it as default.')
        cfg.tta_model = dict(
            type='DetTTAModel',
            tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100))
    if 'tta_pipeline' not in cfg:
        warnings.warn('Cannot find ``tta_pipeline`` in config, we will set it as default.')
        test_data_cfg = cfg.test_dataloader.dataset
        while 'dataset' in test_data_cfg:
            test_data_cfg = test_data_cfg['dataset']
        cfg.tta_pipeline = deepcopy(test_data_cfg.pipeline)
        flip_tta = dict(
            type='TestTimeAug',
            transforms=[
                [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
                [dict(type='PackDetInputs',
                      meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                 'scale_factor', 'flip', 'flip_direction'))],
            ])
        cfg.tta_pipeline[-1] = flip_tta
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    return cfg


def apply_test_options(cfg: Config, config: str, checkpoint: str,
                       work_dir: Optional[str] = None, out: Optional[str] = None,
                       show: bool = False, show_dir: Optional[str] = None,
                       wait_time: float = 2, tta: bool = False,
                       cfg_options: Optional[Mapping] = None,
                       launcher: str = 'none') -> Config:
    """Apply tools/test.py's command line to the loaded config.

    Args:
        cfg: the loaded config (changed in place and returned).
        config: its path (names the default work dir).
        checkpoint: the checkpoint to evaluate.
        work_dir: ``--work-dir``; else the config's, else ``./work_dirs/<config name>``.
        out: ``--out``: a ``.pkl``/``.pickle`` file for the raw predictions.
        show, show_dir, wait_time: see :func:`trigger_visualization_hook`.
        tta: ``--tta``: flip test-time augmentation (mmdet configs).
        cfg_options: parsed ``--cfg-options``.
        launcher: ``--launcher``.

    Returns:
        Config: ``cfg``.
    """
    apply_run_options(cfg, config, work_dir, cfg_options, launcher)

    cfg.load_from = checkpoint

    if show or show_dir:
        cfg = trigger_visualization_hook(cfg, show, show_dir, wait_time)

    if tta:
        if cfg.get('default_scope', 'mmdet') != 'mmdet':
            sys.exit('error: --tta is implemented for MMDetection configs; for MMPose '
                     'use the model\'s flip test instead: '
                     '--cfg-options model.test_cfg.flip_test=True')
        cfg = enable_det_tta(cfg)

    if out is not None and not out.endswith(('.pkl', '.pickle')):
        sys.exit(f'error: --out must name a .pkl or .pickle file, got {out!r}.')
    return cfg


def add_dump_metric(runner, cfg: Config, out: str) -> None:
    """Append a metric that pickles the raw predictions to ``out`` (``--out``).

    mmdet's ``DumpDetResults`` also encodes masks compactly; other codebases get
    mmengine's generic ``DumpResults``.
    """
    if cfg.get('default_scope', 'mmdet') == 'mmdet':
        from mmdet.evaluation import DumpDetResults as Dump
    else:
        from mmengine.evaluator import DumpResults as Dump
    runner.test_evaluator.metrics.append(Dump(out_file_path=out))


def run_test(config: str, checkpoint: str, cfg_options: Optional[Sequence[str]] = None,
             **options) -> None:
    """tools/test.py: load the config, apply the command line, build the runner, test.

    Args:
        config: the config file.
        checkpoint: the checkpoint to evaluate.
        cfg_options: raw ``--cfg-options`` tokens.
        **options: the other options of :func:`apply_test_options`.
    """
    check_tool_files(dict(config=config, checkpoint=checkpoint), options.get('out'),
                     force=None)
    setup_dynamo_cache_limit()
    cfg = apply_test_options(Config.fromfile(config), config, checkpoint,
                             cfg_options=parse_cfg_options(cfg_options), **options)
    check_run_files(cfg, 'checkpoint')  # a truncated checkpoint or a read-only work_dir: before the Runner
    runner = build_runner(cfg)
    if options.get('out') is not None:
        add_dump_metric(runner, cfg, options['out'])
    runner.test()
