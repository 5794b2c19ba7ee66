# Copyright (c) lth_mm authors. All rights reserved.
"""Train a model (a lottery-ticket run or a plain one) from an MMDetection or MMPose config.

The command line is the one of MMDetection 3.x's ``tools/train.py``, so the usual recipes
carry over::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] \
        [--auto-scale-lr] [--cfg-options KEY=VALUE ...] [--launcher none|pytorch|slurm|mpi]
    bash tools/dist_train.sh CONFIG GPUS [ARGS]
    mim train lth_mm CONFIG [ARGS]

It works for both codebases: the registry scope comes from the config's ``default_scope``
(``mmdet`` or ``mmpose``), and a config that names ``runner_type`` (the lottery ``_base_``
sets ``runner_type='LotteryRunner'``) gets that runner from the registry.
"""
import argparse
import logging
import os
import os.path as osp
import sys

# Only the light part of mmengine at module level, so that ``--help`` (which ``mim train``
# calls before every run) does not import torch and the OpenMMLab codebases.
from mmengine.config import Config, DictAction

# Which optimizer wrapper ``--amp`` swaps in for which. Only types listed here can be
# switched: a custom wrapper (e.g. one that also re-applies pruning masks) needs its own
# AMP counterpart, so guessing one would silently drop its behaviour.
AMP_OPTIM_WRAPPERS = {'OptimWrapper': 'AmpOptimWrapper'}


def parse_args(argv=None):
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Train a detector or pose estimator (lottery-ticket pruning runs '
        'included) from an MMDetection or MMPose config.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models '
                        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (switches OptimWrapper to '
        'AmpOptimWrapper with a dynamic loss scale)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR (needs `auto_scale_lr.base_batch_size` '
        'in the config)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes `--local-rank` (torch >= 2.0) or `--local_rank`
    # (older); torchrun passes neither and sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def import_lth_mm():
    """Import lth_mm, which registers its runner, loops, hooks and datasets.

    This must happen before the config is loaded: configs list lth_mm in
    ``custom_imports`` too, but those are only imported after ``_base_`` files are
    resolved, and mmengine resolves ``_base_ = ['lth_mm::...']`` only for packages in its
    hard-coded ``MODULE2PACKAGE`` table. ``import lth_mm`` adds itself there; the
    ``setdefault`` below repeats it so these tools do not depend on that detail.
    """
    try:
        import lth_mm  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name != 'lth_mm':
            raise
        sys.exit('error: lth_mm is not installed in this Python '
                 f'({sys.executable}); run `make setup` (or `python setup.py develop '
                 '--no-deps`) in the lth_mm checkout first.')
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('lth_mm', 'lth_mm')


def _type_name(obj_type):
    """The registry name of a config ``type`` (a string, or a class in pure-Python configs)."""
    return obj_type if isinstance(obj_type, str) else getattr(obj_type, '__name__', str(obj_type))


def enable_amp(cfg):
    """Switch ``cfg.optim_wrapper`` to its AMP counterpart (``--amp``).

    Exits with a message (instead of mmdet's bare assertion) when the config's wrapper
    has no known AMP counterpart.
    """
    from mmengine.logging import print_log

    optim_wrapper = cfg.get('optim_wrapper')
    if optim_wrapper is None:
        sys.exit('error: --amp needs an `optim_wrapper` in the config, and it has none.')
    wrapper_type = _type_name(optim_wrapper.get('type', 'OptimWrapper'))
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


def merge_args(cfg, args):
    """Apply the command line to the loaded config (same precedence rules as mmdet)."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        enable_amp(cfg)

    if args.auto_scale_lr:
        auto_scale_lr = cfg.get('auto_scale_lr')
        if not auto_scale_lr or 'base_batch_size' not in auto_scale_lr:
            sys.exit('error: --auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                     'base_batch_size=...)` in the config (the total batch size the '
                     'learning rate was tuned for).')
        cfg.auto_scale_lr.enable = True

    # resume is determined in this priority: resume from > auto_resume
    lottery = cfg.get('runner_type') == 'LotteryRunner'
    if args.resume == 'auto':
        cfg.resume = True
        if not lottery:  # mmdet's rule; a lottery experiment records load_from itself and
            cfg.load_from = None  # still needs it if round 0 restarts from scratch
    elif args.resume is not None:
        if lottery:
            sys.exit('error: a lottery experiment resumes from its work_dir: pass --resume '
                     'without a path (lth_mm picks the first unfinished round and its '
                     'last checkpoint).')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def setup_dist_without_accelerator(cfg):
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


def build_runner(cfg):
    """Build the runner: ``cfg.runner_type`` from the registry if set, else mmengine's."""
    from mmengine.registry import RUNNERS, init_default_scope
    from mmengine.runner import Runner

    setup_dist_without_accelerator(cfg)
    # The scope decides which codebase's registries resolve the config's types; the
    # runner sets it as well, but building a registered runner type needs it first.
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def setup_dynamo_cache_limit():
    """Raise torch.compile's recompilation limit as mmdet's train.py does (if available)."""
    try:
        from mmdet.utils import setup_cache_size_limit_of_dynamo
    except ImportError:
        return
    setup_cache_size_limit_of_dynamo()


def main(argv=None):
    args = parse_args(argv)
    import_lth_mm()
    setup_dynamo_cache_limit()

    cfg = merge_args(Config.fromfile(args.config), args)
    runner = build_runner(cfg)
    runner.train()


if __name__ == '__main__':
    main()
