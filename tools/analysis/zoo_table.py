# Copyright (c) lth_mm authors. All rights reserved.
"""The tables of configs/README.md: every zoo config with the sparsity it really gives.

For each config of the zoo folders the model is built (``init_cfg`` removed, nothing is
downloaded), the prunable weights are selected with the config's ``lottery`` scope
(``scope``/``groups``/``include``/``exclude``), and the network sparsity of the final round
is the fraction of *all* parameters that the global criterion prunes:

    network sparsity = (N_prunable - round(keep * N_prunable)) / N_total

(``round(keep * N)`` is the number of weights the ticket keeps, as in
``lth_mm.pruning.criteria``; norms, biases, shortcuts and final predictors count in N_total
but are never pruned, so the network sparsity is below the target).

    python tools/analysis/zoo_table.py                       # the markdown tables
    python tools/analysis/zoo_table.py --check configs/README.md
    python tools/analysis/zoo_table.py --json
    python tools/analysis/zoo_table.py --metafiles    # rewrite configs/*/metafile.yml

``--check`` exits 1 when a zoo config is missing from the README, a README row names a
config that does not exist, or a row's target / network sparsity differs from the
computed one.
"""
import argparse
import contextlib
import copy
import functools
import json
import os
import os.path as osp
import re
import sys
from collections import OrderedDict

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
if REPO not in sys.path:  # run from a checkout without installing lth_mm
    sys.path.insert(0, REPO)

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

COLUMNS = ('Config', 'Backbone', 'Setting', 'Target sparsity (prunable)',
           'Network sparsity', 'Paper (anchor)', 'Our result')

_NO_DIRECT = 'none (direct pruning at 50% / 90% is only plotted)'
_R50_NONE = ('none (the paper\'s R50 numbers at 80% / 90% are ImageNet-ticket and '
             'mask transfer, not direct pruning)')
_ITER = 'none (claim: one-shot outperforms iterative, Sec. 4.3)'
_CTRL = 'none'
_SWEEP = 'none (claim: late reset matters little until the LR decay)'

# The paper's number that anchors each config (config file stem -> text). A stem that is
# not listed has no paper number ("—"). Sources: ../shared/docs/paper-notes.md.
PAPER = {
    # ---- COCO detection: the paper's detection numbers are the box AP of Mask R-CNN
    'faster-rcnn_r18_fpn_lth-dense_1x_coco':
        '29.91 box AP (dense R18 Mask R-CNN: the paper has no COCO Faster R-CNN)',
    'faster-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco':
        '30.04 box AP at 78.4% (R18 Mask R-CNN ticket; no mask head here, so a '
        'different network sparsity)',
    'faster-rcnn_r18_fpn_lth-keep50-rw1ep_1x_coco': _NO_DIRECT,
    'faster-rcnn_r18_fpn_lth-keep10-rw1ep_1x_coco': _NO_DIRECT,
    'faster-rcnn_r18_fpn_lth-iter4-keep20-rw1ep_1x_coco': _ITER,
    'faster-rcnn_r18_fpn_lth-keep20-rw1ep-randctrl_1x_coco': _CTRL,
    'faster-rcnn_r50_fpn_lth-dense_1x_coco': '38.5 box AP (dense R50 Mask R-CNN)',
    'faster-rcnn_r50_fpn_lth-keep50-rw1ep_1x_coco': _R50_NONE,
    'faster-rcnn_r50_fpn_lth-keep20-rw1ep_1x_coco': _R50_NONE,
    'faster-rcnn_r50_fpn_lth-keep10-rw1ep_1x_coco': _R50_NONE,
    'faster-rcnn_r50_fpn_lth-iter4-keep20-rw1ep_1x_coco': _ITER,
    'faster-rcnn_r50_fpn_lth-keep20-rw1ep-randctrl_1x_coco': _CTRL,
    # ---- COCO instance segmentation: the same Mask R-CNN models
    'mask-rcnn_r18_fpn_lth-dense_1x_coco': '29.91 box / 27.64 mask AP (dense R18)',
    'mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco':
        '30.04 box / 27.90 mask AP at 78.4% (Table 4, R18 ticket)',
    'mask-rcnn_r18_fpn_lth-keep50-rw1ep_1x_coco': _NO_DIRECT,
    'mask-rcnn_r18_fpn_lth-keep10-rw1ep_1x_coco': _NO_DIRECT,
    'mask-rcnn_r18_fpn_lth-iter4-keep20-rw1ep_1x_coco': _ITER,
    'mask-rcnn_r18_fpn_lth-keep20-rw1ep-randctrl_1x_coco': _CTRL,
    'mask-rcnn_r50_fpn_lth-dense_1x_coco': '38.5 box / 35.13 mask AP (dense R50)',
    'mask-rcnn_r50_fpn_lth-keep50-rw1ep_1x_coco': _R50_NONE,
    'mask-rcnn_r50_fpn_lth-keep20-rw1ep_1x_coco': _R50_NONE,
    'mask-rcnn_r50_fpn_lth-keep10-rw1ep_1x_coco': _R50_NONE,
    'mask-rcnn_r50_fpn_lth-iter4-keep20-rw1ep_1x_coco': _ITER,
    'mask-rcnn_r50_fpn_lth-keep20-rw1ep-randctrl_1x_coco': _CTRL,
    # ---- COCO keypoints: the paper's model is Keypoint R-CNN
    'td-hm_res18_lth-dense_8xb64-210e_coco-256x192':
        '58.59 AP (dense R18 Keypoint R-CNN: other architecture)',
    'td-hm_res18_lth-keep20-rw1ep_8xb64-210e_coco-256x192':
        '59.34 AP at 79.4% (R18 Keypoint R-CNN ticket: other architecture, other '
        'network sparsity)',
    'td-hm_res18_lth-keep50-rw1ep_8xb64-210e_coco-256x192': _NO_DIRECT,
    'td-hm_res18_lth-keep10-rw1ep_8xb64-210e_coco-256x192': _NO_DIRECT,
    'td-hm_res18_lth-iter4-keep20-rw1ep_8xb64-210e_coco-256x192': _ITER,
    'td-hm_res18_lth-keep20-rw1ep-randctrl_8xb64-210e_coco-256x192': _CTRL,
    'td-hm_res50_lth-dense_8xb64-210e_coco-256x192':
        '64.59 AP (dense R50 Keypoint R-CNN: other architecture)',
    'td-hm_res50_lth-keep50-rw1ep_8xb64-210e_coco-256x192': _R50_NONE,
    'td-hm_res50_lth-keep20-rw1ep_8xb64-210e_coco-256x192': _R50_NONE,
    'td-hm_res50_lth-keep10-rw1ep_8xb64-210e_coco-256x192': _R50_NONE,
    'td-hm_res50_lth-iter4-keep20-rw1ep_8xb64-210e_coco-256x192': _ITER,
    'td-hm_res50_lth-keep20-rw1ep-randctrl_8xb64-210e_coco-256x192': _CTRL,
    # ---- Pascal VOC 2007: the paper's model is the C4 Faster R-CNN of faster-rcnn.pytorch
    'faster-rcnn_r18-c4_lth-dense_12e_voc07':
        '69.74 mAP (Table 3 dense; 68.53 in the transfer table)',
    'faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07':
        "68.47 mAP at 78.94% nominal (Table 3 'All')",
    'faster-rcnn_r18-c4_lth-keep20-rw600it-base-top_12e_voc07':
        "68.45 mAP at 70.66% (Table 3 'Base + Top')",
    'faster-rcnn_r18-c4_lth-keep20-rw600it-base_12e_voc07': "69.32 mAP (Table 3 'Base')",
    'faster-rcnn_r18-c4_lth-keep20-rw600it-top_12e_voc07': "69.02 mAP (Table 3 'Top')",
    'faster-rcnn_r18-c4_lth-keep20-rw600it-rpn_12e_voc07': "70.02 mAP (Table 3 'RPN')",
    'faster-rcnn_r18-c4_lth-keep20-rw600it-boxcls_12e_voc07':
        "70.30 mAP (Table 3 'Box, Cls head')",
    'faster-rcnn_r50_fpn_lth-dense_12e_voc07': 'none (ours: FPN; the paper\'s 71.21 is R50 C4)',
}
NO_ANCHOR = '—'


def figure_anchor(stem):
    """The paper item of a VOC C4 config that has no number of its own (a figure's curve,
    or a Table 3 row whose number our notes do not quote), or :data:`NO_ANCHOR`."""
    if '_r18-c4_' not in stem:
        return NO_ANCHOR
    tag = stem.split('_lth-')[1].split('_')[0]
    if tag.endswith('-layerwise'):
        return 'Fig. 2e curve (layer-wise vs global)'
    if tag.startswith('iter'):
        return 'Fig. 2d curve (claim: one-shot outperforms iterative)'
    if tag.endswith('-base-top'):
        return 'Fig. 2a curve (backbone sparsity sweep)'
    if re.fullmatch(r'keep20-rw\d+(it)?', tag):
        return 'Fig. 2b curve (claim: late reset matters little until the LR decay)'
    if re.fullmatch(r'keep(50|10)-rw600it', tag):
        return 'Fig. 2e curve (global)'
    if tag.startswith('keep20-rw600it-') and not tag.endswith('randctrl'):
        return 'Table 3 row (its number is not in our paper notes)'
    return NO_ANCHOR


# ------------------------------------------------------------------------------------
# the zoo
# ------------------------------------------------------------------------------------
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


def network_sparsity(n_prunable, n_total, keep):
    """Fraction of all parameters pruned when ``keep`` of ``n_prunable`` weights survive."""
    return (n_prunable - int(round(float(keep) * n_prunable))) / n_total


def format_target(keep):
    """Target sparsity of the prunable weights, e.g. ``80%`` (one decimal at most)."""
    return f'{100 * (1 - keep):.1f}'.rstrip('0').rstrip('.') + '%'


def format_network(sparsity):
    """Network sparsity with two decimals, e.g. ``78.40%``."""
    return f'{100 * sparsity:.2f}%'


def _repeat_times(cfg):
    """How often the train dataloader repeats the data (mmdet's VOC: RepeatDataset x3)."""
    ds = cfg.train_dataloader.dataset
    times = 1
    while isinstance(ds, dict) and ds.get('type') == 'RepeatDataset':
        times *= ds.get('times', 1)
        ds = ds.get('dataset')
    return times


def describe_setting(cfg, settings):
    """A short description of the lottery run, e.g. ``one-shot, rewind 1 ep``."""
    ratios = settings.keep_ratios()
    if settings.ticket is None and len(ratios) == 1 and ratios[0] == 1.0:
        return 'dense (1 round)'
    parts = ['one-shot' if settings.rounds == 2 else
             f'iterative, {settings.rounds - 1} prunings']
    if settings.criterion != 'global_magnitude':
        parts.append(settings.criterion)
    if settings.rewind_epochs is not None:
        ep = float(settings.rewind_epochs) * _repeat_times(cfg)
        parts.append('rewind to init' if ep == 0 else f'rewind {ep:.3g} ep')
    else:
        it = settings.rewind_iter or 0
        parts.append('rewind to init' if it == 0 else f'rewind iter {it}')
    if settings.groups:
        parts.append('only ' + ' + '.join(settings.groups))
    if settings.prune_scope != 'paper':
        parts.append(f'scope {settings.prune_scope}')
    if settings.include or settings.exclude:
        parts.append('include/exclude')
    if settings.controls:
        parts.append('+ ' + ', '.join(settings.controls))
    return ', '.join(parts)


def backbone_of(cfg):
    """``R-18`` / ``R-50`` from the config's backbone."""
    bb = cfg.model.get('backbone', {})
    depth = bb.get('depth')
    return f'R-{depth}' if depth else str(bb.get('type', '?'))


def zoo_row(path, cache):
    """One table row (a dict) of a zoo config.

    Args:
        path (str): ``configs/<family>/<name>.py``.
        cache (ModelCache): shared model cache.

    Returns:
        dict: config, family, backbone, setting, keep (final keep ratio), n_prunable,
        n_total, target, network (formatted), network_sparsity (float), paper, ours.
    """
    cfg = cache.config(path)
    settings = lottery_settings(cfg)
    keep = settings.keep_ratios()[-1]
    n_prunable, n_total = cache.counts(cfg, settings.scope_dict)
    ns = network_sparsity(n_prunable, n_total, keep)
    stem = osp.splitext(osp.basename(path))[0]
    return dict(
        config=path, name=stem, family=path.split('/')[-2], backbone=backbone_of(cfg),
        setting=describe_setting(cfg, settings), keep=keep, n_prunable=n_prunable,
        n_total=n_total, target=format_target(keep), network_sparsity=ns,
        network=format_network(ns), paper=PAPER.get(stem) or figure_anchor(stem), ours='')


def zoo_rows(paths=None, cache=None):
    """Rows of every zoo config (or of ``paths``)."""
    cache = cache or ModelCache()
    with memoized_external_bases():
        return [zoo_row(p, cache) for p in (paths or zoo_configs())]


# ------------------------------------------------------------------------------------
# markdown
# ------------------------------------------------------------------------------------
def _cell(text):
    return str(text).replace('|', '\\|')


def render_tables(rows):
    """Markdown: one ``###`` section with a table per family."""
    out = []
    for family, title in FAMILIES.items():
        fam = [r for r in rows if r['family'] == family]
        if not fam:
            continue
        out += [f'### {title}', '']
        out.append('| ' + ' | '.join(COLUMNS) + ' |')
        out.append('|' + '|'.join('---' for _ in COLUMNS) + '|')
        for r in fam:
            link = f"[{r['name']}]({family}/{r['name']}.py)"
            cells = [link, r['backbone'], r['setting'], r['target'], r['network'],
                     r['paper'], r['ours']]
            out.append('| ' + ' | '.join(_cell(c) for c in cells) + ' |')
        out.append('')
    return '\n'.join(out)


_ROW_RE = re.compile(r'^\|\s*\[([^\]]+)\]\(([^)]+)\)\s*\|')


def parse_readme_rows(text):
    """Config rows of the README tables: ``{name: {'target': str, 'network': str}}``.

    Also returns the names seen more than once.
    """
    rows, dups = {}, []
    for line in text.splitlines():
        m = _ROW_RE.match(line.strip())
        if not m:
            continue
        cells = [c.strip() for c in re.split(r'(?<!\\)\|', line.strip())[1:-1]]
        if len(cells) < len(COLUMNS) - 1:
            continue
        name = m.group(1)
        if name in rows:
            dups.append(name)
        rows[name] = dict(path=m.group(2), target=cells[COLUMNS.index(
            'Target sparsity (prunable)')], network=cells[COLUMNS.index('Network sparsity')])
    return rows, dups


def check_readme(readme_path, rows):
    """Differences between the README tables and the computed rows (list of messages)."""
    with open(readme_path, encoding='utf-8') as f:
        seen, dups = parse_readme_rows(f.read())
    errors = [f'{n}: listed more than once' for n in dups]
    for r in rows:
        got = seen.pop(r['name'], None)
        if got is None:
            errors.append(f"{r['name']}: missing from {readme_path}")
            continue
        want_path = f"{r['family']}/{r['name']}.py"
        if got['path'] != want_path:
            errors.append(f"{r['name']}: links to {got['path']}, not {want_path}")
        for key in ('target', 'network'):
            if got[key] != r[key]:
                errors.append(f"{r['name']}: README says {key} {got[key]}, the config "
                              f"gives {r[key]}")
    for name in seen:
        errors.append(f'{name}: in {readme_path} but no such config in the zoo')
    return errors


# ------------------------------------------------------------------------------------
# metafiles
# ------------------------------------------------------------------------------------
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


def write_metafiles(rows, cache, templates=None):
    """Rewrite the ``Models`` of every family's metafile from the rows (the header comment
    and ``Collections`` are kept). A new config takes the fields no config holds from
    ``templates[family]`` or the family's first existing entry.

    Returns:
        list[str]: the metafiles written.
    """
    import yaml
    written = []
    for family in FAMILIES:
        fam = [r for r in rows if r['family'] == family]
        if not fam:
            continue
        path = osp.join(REPO, 'configs', family, 'metafile.yml')
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
        from lth_mm.fileio import atomic_write_text
        atomic_write_text(header + body, path)
        written.append(path)
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description='Sparsity tables of the lth_mm config zoo.')
    p.add_argument('--check', metavar='README',
                   help='verify the tables of this README instead of printing them')
    p.add_argument('--json', action='store_true', help='print the rows as JSON')
    p.add_argument('--metafiles', action='store_true',
                   help='rewrite the Models of configs/*/metafile.yml from the configs')
    p.add_argument('configs', nargs='*', help='only these configs (default: the zoo)')
    args = p.parse_args(argv)
    import logging

    from mmengine.logging import MMLogger

    import lth_mm  # noqa: F401  (registers the synthetic datasets, hooks, runner)
    # mmengine logs scope switches (mmdet <-> mmpose) to stdout: keep stdout the table.
    MMLogger.get_instance('mmengine').setLevel(logging.ERROR)
    cache = ModelCache()
    rows = zoo_rows(args.configs or None, cache)
    if args.check:
        errors = check_readme(args.check, rows)
        for e in errors:
            print(f'error: {e}', file=sys.stderr)
        if errors:
            print(f'{len(errors)} difference(s); regenerate the tables with '
                  f'`python tools/analysis/zoo_table.py`', file=sys.stderr)
            return 1
        print(f'{args.check}: {len(rows)} configs, sparsities as computed')
        return 0
    if args.metafiles:
        for path in write_metafiles(rows, cache):
            print(f'wrote {path}')
        return 0
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(render_tables(rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
