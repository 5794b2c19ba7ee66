# Copyright (c) lth_mm authors. All rights reserved.
"""Test (and evaluate) a checkpoint, e.g. a winning ticket, with an MMDetection or MMPose config.

The command line follows MMDetection 3.x's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl] \
        [--show-dir DIR] [--tta] [--cfg-options KEY=VALUE ...] [--launcher ...]
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [ARGS]
    mim test lth_mm CONFIG --checkpoint CHECKPOINT [ARGS]

The registry scope comes from the config's ``default_scope`` (``mmdet`` or ``mmpose``);
``--show-dir`` drives ``DetVisualizationHook`` or ``PoseVisualizationHook`` accordingly.
"""
import argparse
import importlib.util
import os
import os.path as osp
import sys
import warnings
from copy import deepcopy

# Light imports only at module level, so that `--help` does not import torch (see train.py).
from mmengine.config import Config, ConfigDict, DictAction


def _load_train_tool():
    """Load the sibling train.py, whose runner/scope helpers this script shares.

    Loaded by path under a private module name: tools/ is not a package, and putting it on
    sys.path would expose a top-level module called `train` to everything imported later.
    realpath: under `mim test` this file is reached through the lth_mm/.mim/tools link.
    """
    name = 'lth_mm_tools_train'
    if name not in sys.modules:
        path = osp.join(osp.dirname(osp.realpath(__file__)), 'train.py')
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


_train = _load_train_tool()
_type_name = _train._type_name


def parse_args(argv=None):
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a detector or pose estimator checkpoint from an '
        'MMDetection or MMPose config.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--out',
        type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images will be saved. '
        'If specified, it will be automatically saved '
        'to the work_dir/timestamp/show_dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
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
    parser.add_argument(
        '--tta', action='store_true',
        help='test-time augmentation (flip), for MMDetection configs')
    # see train.py: torch.distributed.launch passes one of these, torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg, args):
    """Turn on the config's visualization hook for ``--show`` / ``--show-dir``.

    ``DetVisualizationHook`` (mmdet) draws when ``draw=True`` and writes to
    ``test_out_dir``; ``PoseVisualizationHook`` (mmpose) uses ``enable`` and ``out_dir``.
    Both take a path relative to ``work_dir/<timestamp>``.
    """
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        sys.exit('error: --show/--show-dir need a visualization hook in `default_hooks`, '
                 "e.g. visualization=dict(type='DetVisualizationHook') for mmdet or "
                 "dict(type='PoseVisualizationHook') for mmpose.")
    if _type_name(hook.get('type', '')).endswith('PoseVisualizationHook'):
        hook.enable = True
        hook.show = args.show
        if args.show:
            hook.wait_time = args.wait_time
        if args.show_dir:
            hook.out_dir = args.show_dir
    else:
        hook.draw = True
        if args.show:
            hook.show = True
            hook.wait_time = args.wait_time
        if args.show_dir:
            hook.test_out_dir = args.show_dir
    return cfg


def enable_det_tta(cfg):
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


def merge_args(cfg, args):
    """Apply the command line to the loaded config."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    if args.tta:
        if cfg.get('default_scope', 'mmdet') != 'mmdet':
            sys.exit('error: --tta is implemented for MMDetection configs; for MMPose '
                     'use the model\'s flip test instead: '
                     '--cfg-options model.test_cfg.flip_test=True')
        cfg = enable_det_tta(cfg)

    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        sys.exit(f'error: --out must name a .pkl or .pickle file, got {args.out!r}.')
    return cfg


def add_dump_metric(runner, cfg, out):
    """Append a metric that pickles the raw predictions to ``out`` (``--out``).

    mmdet's ``DumpDetResults`` also encodes masks compactly; other codebases get
    mmengine's generic ``DumpResults``.
    """
    if cfg.get('default_scope', 'mmdet') == 'mmdet':
        from mmdet.evaluation import DumpDetResults as Dump
    else:
        from mmengine.evaluator import DumpResults as Dump
    runner.test_evaluator.metrics.append(Dump(out_file_path=out))


def main(argv=None):
    args = parse_args(argv)
    _train.import_lth_mm()
    _train.setup_dynamo_cache_limit()

    cfg = merge_args(Config.fromfile(args.config), args)
    runner = _train.build_runner(cfg)
    if args.out is not None:
        add_dump_metric(runner, cfg, args.out)
    runner.test()


if __name__ == '__main__':
    main()
