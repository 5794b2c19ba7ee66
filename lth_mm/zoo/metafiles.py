# Copyright (c) lth_mm authors. All rights reserved.
"""The ``Models`` of configs/<family>/metafile.yml, written from the zoo rows."""
import os.path as osp
import re

from .configs import FAMILIES, REPO, lottery_settings

_OPTIMIZER_TECHNIQUE = {'SGD': 'SGD with Momentum', 'AdamW': 'AdamW', 'Adam': 'Adam'}


def _model_entry(row, cfg, template):
    """A metafile ``Models`` entry of a zoo row; ``template`` (an entry of the same family)
    gives what the config cannot tell (task, dataset, architecture words, batch size)."""
    meta = dict(template['Metadata'])
    if 'neck' not in cfg.model:  # C4 / top-down: no FPN
        meta['Architecture'] = [a for a in meta['Architecture'] if a != 'FPN']
    loop = cfg.train_cfg
    if 'max_epochs' in loop:
        meta['Epochs'] = loop['max_epochs']
    stem = row['name']
    m = re.search(r'_(\d+)xb(\d+)-', stem)
    if m:
        meta['Batch Size'] = int(m.group(1)) * int(m.group(2))
    elif cfg.get('auto_scale_lr', {}).get('base_batch_size'):
        meta['Batch Size'] = cfg.auto_scale_lr.base_batch_size
    settings = lottery_settings(cfg)
    meta.update({
        'Backbone': row['backbone'],
        'Optimizer': _OPTIMIZER_TECHNIQUE.get(cfg.optim_wrapper.optimizer.type,
                                              cfg.optim_wrapper.optimizer.type),
        'Lottery Rounds': settings.rounds,
        'Keep Ratio': round(float(row['keep']), 4),
        'Setting': row['setting'],
        'Prunable Sparsity (%)': round(100 * (1 - float(row['keep'])), 2),
        'Network Sparsity (%)': round(100 * row['network_sparsity'], 2),
    })
    return {'Name': stem, 'In Collection': template['In Collection'],
            'Config': row['config'], 'Metadata': meta,
            'Results': [dict(r, Metrics={}) for r in template['Results']]}


def write_metafiles(rows, cache, templates=None, repo=REPO):
    """Rewrite the ``Models`` of every family's metafile from the rows (the header comment
    and ``Collections`` are kept). A new config takes the fields no config holds from
    ``templates[family]`` or the family's first existing entry.

    Args:
        rows (list[dict]): :func:`~lth_mm.zoo.zoo_rows`.
        cache (ModelCache): the cache the rows were computed with.
        templates (dict, optional): family -> a ``Models`` entry for new configs.
        repo (str): the folder holding ``configs/``.

    Returns:
        list[str]: the metafiles written.
    """
    import yaml

    from lth_mm.fileio import atomic_write_text
    written = []
    for family in FAMILIES:
        fam = [r for r in rows if r['family'] == family]
        if not fam:
            continue
        path = osp.join(repo, 'configs', family, 'metafile.yml')
        with open(path, encoding='utf-8') as f:
            text = f.read()
        data = yaml.safe_load(text)
        old = {m['Name']: m for m in data.get('Models', [])}
        default = (templates or {}).get(family) or next(iter(old.values()))
        models = [_model_entry(r, cache.config(r['config']), old.get(r['name'], default))
                  for r in fam]
        header = text[:text.index('Collections:')]
        body = yaml.safe_dump({'Collections': data['Collections']}, sort_keys=False,
                              allow_unicode=True, width=100)
        body += '\n' + yaml.safe_dump({'Models': models}, sort_keys=False,
                                      allow_unicode=True, width=100)
        atomic_write_text(header + body, path)
        written.append(path)
    return written
