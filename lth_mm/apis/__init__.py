# Copyright (c) lth_mm authors. All rights reserved.
"""What the command-line tools do, as functions: the tools in ``tools/`` only parse their
arguments (without importing lth_mm, so that ``--help`` is instant) and call these."""
from .common import (build_model_from_cfg, check_tool_files, export_local_rank, load_config,
                     parse_cfg_options, strip_init_cfg)
from .compress import compress_checkpoint, decompress_checkpoint
from .one_shot import prune_checkpoint
from .seeds import aggregate_seed_runs, launch_seeds, seed_commands
from .testing import apply_test_options, run_test
from .training import apply_train_options, build_runner, run_train
from .transfer import transfer_ticket

__all__ = [
    'build_model_from_cfg', 'check_tool_files', 'export_local_rank', 'load_config',
    'parse_cfg_options', 'strip_init_cfg', 'compress_checkpoint', 'decompress_checkpoint',
    'prune_checkpoint', 'aggregate_seed_runs', 'launch_seeds', 'seed_commands',
    'apply_test_options', 'run_test', 'apply_train_options', 'build_runner', 'run_train',
    'transfer_ticket'
]
