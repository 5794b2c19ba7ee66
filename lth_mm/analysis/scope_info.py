# Copyright (c) lth_mm authors. All rights reserved.
"""The pruning scope of a config as a table, weight by weight (no checkpoint needed)."""


def config_scope_table(config, prune_scope=None, cfg_options=None):
    """The scope table of a config's model under its ``lottery`` settings.

    Args:
        config (str): the config file.
        prune_scope (str, optional): overrides ``lottery.prune_scope``.
        cfg_options (list[str], optional): ``key=value`` config overrides.

    Returns:
        dict: :func:`lth_mm.pruning.scope_table.scope_table`'s table.

    Raises:
        LotteryConfigError: the lottery block is invalid.
        ScopeError: the scope selects nothing or names unknown groups.
    """
    from lth_mm.apis import build_model_from_cfg, load_config
    from lth_mm.pruning import LotterySettings
    from lth_mm.pruning.scope_table import scope_table
    cfg = load_config(config, cfg_options)
    lottery = dict(cfg.get('lottery') or {})
    if prune_scope:
        lottery['prune_scope'] = prune_scope
    settings = LotterySettings.from_dict(lottery)
    return scope_table(build_model_from_cfg(cfg), **settings.scope_dict)
