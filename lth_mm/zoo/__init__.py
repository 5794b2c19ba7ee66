# Copyright (c) lth_mm authors. All rights reserved.
"""The config zoo's tables (configs/README.md) and metafiles, computed from the configs.

Every zoo config's model is built (``init_cfg`` removed, nothing is downloaded), its
prunable weights selected with the config's ``lottery`` scope, and its network sparsity
computed (:mod:`lth_mm.zoo.rows`); the paper's anchors come from ``lth_mm.paper``.
``tools/analysis/zoo_table.py`` is the command line.
"""
from .configs import (FAMILIES, REPO, ModelCache, load_config, lottery_settings,
                      memoized_external_bases, zoo_configs)
from .metafiles import write_metafiles
from .rows import (backbone_of, describe_setting, figure_anchor, format_network,
                   format_target, network_sparsity, paper_anchor, zoo_row, zoo_rows)
from .tables import COLUMNS, check_readme, parse_readme_rows, render_tables

__all__ = [
    'FAMILIES', 'REPO', 'ModelCache', 'load_config', 'lottery_settings',
    'memoized_external_bases', 'zoo_configs', 'write_metafiles', 'backbone_of',
    'describe_setting', 'figure_anchor', 'format_network', 'format_target',
    'network_sparsity', 'paper_anchor', 'zoo_row', 'zoo_rows', 'COLUMNS', 'check_readme',
    'parse_readme_rows', 'render_tables'
]
