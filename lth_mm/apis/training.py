# Copyright (c) lth_mm authors. All rights reserved.
"""What ``tools/train.py`` does: apply its command line to a config, build the runner, train.

The command line is MMDetection 3.x's; it works for MMDetection and MMPose configs (the
registry scope comes from the config's ``default_scope``), and a config that names
``runner_type`` (the lottery ``_base_`` sets ``LotteryRunner``) gets that runner.
"""
import logging
import os.path as osp
import sys
from typing import Mapping, Optional, Sequence

from mmengine.config import Config

from .common import check_run_files, check_tool_files, parse_cfg_options

# Which optimizer wrapper ``--amp`` swaps in for which. Only types listed here can be
# switched: a custom wrapper (e.g. one that also re-applies pruning masks) needs its own
# AMP counterpart, so guessing one would silently drop its behaviour.
AMP_OPTIM_WRAPPERS = {'OptimWrapper': 'AmpOptimWrapper'}


def type_name(obj_type) -> str:
    """The registry name of a config ``type`` (a string, or a class in pure-Python configs)."""
    return obj_type if isinstance(obj_type, str) else getattr(obj_type, '__name__', str(obj_type))


def default_work_dir(config: str) -> str:
    """``./work_dirs/<config name>``, mmdet's work dir when neither CLI nor config set one."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])


def apply_run_options(cfg: Config, config: str, work_dir: Optional[str] = None,
                      cfg_options: Optional[Mapping] = None, launcher: str = 'none') -> None:
    """The options train.py and test.py share: launcher, ``--cfg-options``, work dir.

    Args:
        cfg: the loaded config (changed in place).
        config: its path (names the default work dir).
        work_dir: ``--work-dir``; else the config's, else ``./work_dirs/<config name>``.
        cfg_options: parsed ``--cfg-options``, merged before the work dir is chosen; a
            lottery key typed there wins over an exclusive one of the config
            (:func:`~lth_mm.engine.runner.preflight.typed_lottery_keys_win`).
        launcher: ``--launcher``.
    """
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
        if type_name(cfg.get('runner_type')) == 'LotteryRunner' and isinstance(
                cfg.get('lottery'), Mapping):
            # The key the user typed wins over an exclusive one a base config set.
            from mmengine.logging import print_log

            from ..engine.runner.preflight import typed_lottery_keys_win
            for line in typed_lottery_keys_win(cfg.lottery, cfg_options):
                print_log(line, logger='current')
    # work_dir is determined in this priority: CLI > segment in file > filename
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(config)


def enable_amp(cfg: Config) -> None:
    """Switch ``cfg.optim_wrapper`` to its AMP counterpart (``--amp``).

    Exits with a message (instead of mmdet's bare assertion) when the config's wrapper
    has no known AMP counterpart.
    """
    from mmengine.logging import print_log

    optim_wrapper = cfg.get('optim_wrapper')
    if optim_wrapper is None:
        sys.exit('error: --amp needs an `optim_wrapper` in the config, and it has none.')
    wrapper_type = type_name(optim_wrapper.get('type', 'OptimWrapper'))
    if wrapper_type in AMP_OPTIM_WRAPPERS.values():
        print_log('AMP training is already enabled in your config.',
                  logger='current', level=logging.WARNING)
        return
    if wrapper_type not in AMP_OPTIM_WRAPPERS:
        known = ', '.join(sorted(AMP_OPTIM_WRAPPERS))
        sys.exit(f'error: --amp can only switch optim_wrapper types {known} to their AMP '
                 f'versions, but the config uses `{wrapper_type}`. Set the AMP '
                 'optimizer wrapper in the config instead, e.g. '
                 "--cfg-options optim_wrapper.type=AmpOptimWrapper "
                 'optim_wrapper.loss_scale=dynamic, if that type supports it.')
    optim_wrapper.type = AMP_OPTIM_WRAPPERS[wrapper_type]
    optim_wrapper.loss_scale = 'dynamic'


def apply_train_options(cfg: Config, config: str, work_dir: Optional[str] = None,
                        resume: Optional[str] = None, amp: bool = False,
                        auto_scale_lr: bool = False, cfg_options: Optional[Mapping] = None,
                        launcher: str = 'none') -> Config:
    """Apply tools/train.py's command line to the loaded config (mmdet's precedence rules).

    Args:
        cfg: the loaded config (changed in place and returned).
        config: its path (names the default work dir).
        work_dir: ``--work-dir``; else the config's, else ``./work_dirs/<config name>``.
        resume: ``--resume``: ``'auto'`` (the flag alone) or a checkpoint path.
        amp: ``--amp``.
        auto_scale_lr: ``--auto-scale-lr``.
        cfg_options: parsed ``--cfg-options`` (see :func:`parse_cfg_options`).
        launcher: ``--launcher``.

    Returns:
        Config: ``cfg``.
    """
    apply_run_options(cfg, config, work_dir, cfg_options, launcher)

    if amp:
        enable_amp(cfg)

    if auto_scale_lr:
        scale_cfg = cfg.get('auto_scale_lr')
        if not scale_cfg or 'base_batch_size' not in scale_cfg:
            sys.exit('error: --auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                     'base_batch_size=...)` in the config (the total batch size the '
                     'learning rate was tuned for).')
        cfg.auto_scale_lr.enable = True

    # resume is determined in this priority: resume from > auto_resume
    lottery = cfg.get('runner_type') == 'LotteryRunner'
    if resume == 'auto':
        cfg.resume = True
        if not lottery:  # mmdet's rule; a lottery experiment records load_from itself and
            cfg.load_from = None  # still needs it if round 0 restarts from scratch
    elif resume is not None:
        if lottery:
            sys.exit('error: a lottery experiment resumes from its work_dir: pass --resume '
                     'without a path (lth_mm picks the first unfinished round and its '
                     'last checkpoint).')
        cfg.resume = True
        cfg.load_from = resume
    return cfg


def setup_dist_without_accelerator(cfg: Config) -> None:
    """Make ``--launcher pytorch`` work on CPU-only (or MPS) machines, e.g. with gloo.

    mmengine 0.10 assumes a device there: ``init_dist('pytorch')`` calls
    ``torch.cuda.set_device`` whenever no NPU/MLU/MUSA is present, and the runner wraps
    the model in DDP with ``device_ids=[LOCAL_RANK]``, which DDP rejects for CPU modules.
    So, without an accelerator only: start the process group here from torchrun's
    environment and ``env_cfg.dist_cfg`` (``nccl`` needs CUDA, so it becomes ``gloo``; the
    runner skips ``init_dist`` when a group exists), and give the DDP wrapper
    ``device_ids=None``. With an accelerator, mmengine's own path is left untouched.
    """
    if cfg.get('launcher') != 'pytorch':
        return
    import datetime
    import multiprocessing as mp

    import torch.distributed as dist
    from mmengine.device import get_device
    from mmengine.logging import print_log
    from mmengine.registry import MODEL_WRAPPERS
    from torch.nn.parallel import DistributedDataParallel

    if get_device() not in ('cpu', 'mps') or not dist.is_available():
        return
    if not dist.is_initialized():
        dist_cfg = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
        dist_cfg.pop('init_backend', None)
        backend = dist_cfg.pop('backend', 'gloo')
        if backend == 'nccl':
            print_log('no CUDA device: using the gloo backend instead of nccl',
                      logger='current', level=logging.WARNING)
            backend = 'gloo'
        if dist_cfg.get('timeout') is not None:  # seconds in configs, as for mmengine
            dist_cfg['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
        if mp.get_start_method(allow_none=True) is None:
            mp.set_start_method('spawn')  # what mmengine's init_dist sets
        dist.init_process_group(backend=backend, **dist_cfg)

    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        # what the runner builds by default, minus the device ids
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        return
    wrapper_type = wrapper_cfg.get('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if isinstance(wrapper_type, type) and issubclass(wrapper_type, DistributedDataParallel):
        wrapper_cfg.setdefault('device_ids', None)


def build_runner(cfg: Config):
    """Build the runner: ``cfg.runner_type`` from the registry if set, else mmengine's.

    Args:
        cfg: the complete config (work_dir, launcher set).

    Returns:
        the runner (mmengine ``Runner`` or the registered ``runner_type``).
    """
    from mmengine.registry import RUNNERS, init_default_scope
    from mmengine.runner import Runner

    setup_dist_without_accelerator(cfg)
    # The scope decides which codebase's registries resolve the config's types; the
    # runner sets it as well, but building a registered runner type needs it first.
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def setup_dynamo_cache_limit() -> None:
    """Raise torch.compile's recompilation limit as mmdet's train.py does (if available)."""
    try:
        from mmdet.utils import setup_cache_size_limit_of_dynamo
    except ImportError:
        return
    setup_cache_size_limit_of_dynamo()


def run_train(config: str, cfg_options: Optional[Sequence[str]] = None, **options) -> None:
    """tools/train.py: load the config, apply the command line, build the runner, train.

    Args:
        config: the config file.
        cfg_options: raw ``--cfg-options`` tokens.
        **options: the other options of :func:`apply_train_options`.
    """
    check_tool_files(dict(config=config))
    setup_dynamo_cache_limit()
    cfg = apply_train_options(Config.fromfile(config), config,
                              cfg_options=parse_cfg_options(cfg_options), **options)
    check_run_files(cfg)  # a truncated load_from or a read-only work_dir: before the Runner
    build_runner(cfg).train()
