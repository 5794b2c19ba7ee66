"""The config zoo (configs/README.md): every config loads, builds, runs its pipelines on the
synthetic data and gives the network sparsity its README row and metafile state; one config
per family trains through the Runner.

Models are built once per distinct model (the variants of a family share one) and the
synthetic data are generated once, tiny (2 + 2 images of 64 px), for the whole module.
"""
import copy
import json
import os.path as osp

import pytest
import yaml

import lth_mm  # noqa: F401  (registers the synthetic datasets, runner, hooks)
from lth_mm import zoo as zoo_table
from lth_mm.apis import strip_init_cfg
from lth_mm.datasets import ensure_synthetic_dataset
from lth_mm.engine.rewind import warmup_end, warmup_warning

from _toy import train_rounds, unformatted

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))

ZOO = zoo_table.zoo_configs()
TINY = dict(num_train=2, num_val=2, img_size=64, seed=0)
README = osp.join(REPO, 'configs', 'README.md')


def _family(path):
    return path.split('/')[-2]


def _is_pose(cfg):
    return cfg.get('default_scope') == 'mmpose'


def _is_voc(cfg):
    return 'VOC' in json.dumps(cfg.train_dataloader.to_dict(), default=str)


def _id(path):
    return osp.splitext(osp.basename(path))[0]


@pytest.fixture(scope='module')
def cache():
    return zoo_table.ModelCache()


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('zoo') / 'synthetic') + '/'
    ensure_synthetic_dataset(root, **TINY, voc=True)
    return root


@pytest.fixture(scope='module')
def readme_rows():
    with open(README, encoding='utf-8') as f:
        rows, dups = zoo_table.parse_readme_rows(f.read())
    assert not dups, f'configs listed twice in configs/README.md: {dups}'
    return rows


@pytest.fixture(scope='module')
def metafile_models():
    with open(osp.join(REPO, 'model-index.yml'), encoding='utf-8') as f:
        index = yaml.safe_load(f)
    models = {}
    for meta in index['Import']:
        with open(osp.join(REPO, meta), encoding='utf-8') as f:
            data = yaml.safe_load(f)
        names = {c['Name'] for c in data['Collections']}
        for m in data['Models']:
            assert m['In Collection'] in names, m['Name']
            assert m['Name'] not in models, f"{m['Name']} in two metafiles"
            models[m['Name']] = dict(m, metafile=meta)
    return models


# ------------------------------------------------------------------------------------
# the zoo as a whole
# ------------------------------------------------------------------------------------
C4 = 'faster-rcnn_r18-c4_lth-'


def _tags(prefix):
    """Setting tags of the zoo configs whose name starts with ``prefix``."""
    return {_id(p).split('_lth-')[1].split('_')[0] for p in ZOO
            if _id(p).startswith(prefix)}


def test_zoo_covers_the_paper_experiments():
    names = [_id(p) for p in ZOO]
    assert len(names) == len(set(names)), 'config names must be unique (mim picks by name)'
    for fam, rw in (('faster_rcnn', 'rw1ep'), ('mask_rcnn', 'rw1ep'),
                    ('topdown_heatmap', 'rw2ep')):
        fam_names = [_id(p) for p in ZOO if _family(p) == fam]
        for depth in ('18', '50'):
            tags = {n.split('_lth-')[1].split('_')[0] for n in fam_names
                    if f'_r{depth}_' in n or f'_res{depth}_' in n}
            assert {'dense', f'keep50-{rw}', f'keep20-{rw}', f'keep10-{rw}',
                    f'iter4-keep20-{rw}', f'keep20-{rw}-randctrl'} <= tags, (fam, depth, tags)
    c4 = _tags(C4)
    # Table 3: every subset of the four modules (dense, 14 subsets, All).
    mods = ('base', 'top', 'rpn', 'boxcls')
    subsets = {'-'.join(m for i, m in enumerate(mods) if mask >> i & 1)
               for mask in range(1, 15)}
    assert {'dense', 'keep20-rw600it'} | {f'keep20-rw600it-{s}' for s in subsets} <= c4
    # Fig. 2a, 2b, 2d, 2e.
    assert {f'keep{k}-rw600it-base-top' for k in ('50', '30', '20', '10', '05')} <= c4
    assert {'keep20-rw0', 'keep20-rw200it', 'keep20-rw400it', 'keep20-rw835it',
            'keep20-rw8350it'} <= c4
    assert {f'iter{r}-keep20-rw600it' for r in (3, 4, 5, 6)} <= c4
    for k in ('50', '20', '10'):
        assert {f'keep{k}-rw600it', f'keep{k}-rw600it-layerwise'} <= c4
    # No config trains on VOC07+12 (the paper's data are VOC2007).
    assert not [n for n in names if 'voc0712' in n]


def test_table3_groups_on_the_c4_configs(cache):
    """The Table 3 configs select the groups their names say, with the VOC code's rule."""
    want = {'base': 'backbone_base', 'top': 'backbone_top', 'rpn': 'rpn',
            'boxcls': 'predictors'}
    seen = 0
    for path in ZOO:
        tag = _id(path).split('_lth-')[1].split('_')[0]
        if not (_id(path).startswith(C4) and tag.startswith('keep20-rw600it-')):
            continue
        parts = tag.split('-')[2:]
        if parts in (['randctrl'], ['layerwise']):
            continue
        s = zoo_table.lottery_settings(cache.config(path))
        assert s.prune_scope == 'paper_voc'
        assert list(s.groups) == [want[p] for p in parts], path
        seen += 1
    assert seen == 14


# Training images and total batch of the zoo's real datasets (mmdet 8x2, mmpose 8x64,
# the paper's VOC batch 12 over VOC2007 trainval repeated twice).
_DATA = {'faster_rcnn': (117266, 16), 'mask_rcnn': (117266, 16),
         'topdown_heatmap': (149813, 512), 'pascal_voc': (2 * 5011, 12)}


def test_rewind_points_are_the_papers_and_after_warm_up(cache):
    """COCO: 7330 x 16 images = 1 epoch of the 117,266 annotated train2017 images. VOC:
    iteration 600 = the end of the paper's 600-iteration warm-up. Pose: past mmpose's
    500-iteration warm-up. Only the Fig. 2b points labelled as inside the warm-up
    (rw200it, rw400it) are; the LotteryHook warns about those."""
    coco = cache.config('configs/mask_rcnn/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py')
    assert coco.lottery.rewind_epochs * 117266 == pytest.approx(7330 * 16, rel=1e-3)
    inside = []
    for path in ZOO:
        fam = _family(path)
        if fam not in _DATA or '-dense' in path:
            continue
        cfg = cache.config(path)
        s = zoo_table.lottery_settings(cfg)
        images, batch = _DATA[fam]
        if s.rewind_epochs is not None:
            it = s.rewind_epochs * -(-images // batch)
        else:
            it = s.rewind_iter or 0
        ipe = -(-images // batch)
        # The LotteryHook's own check (0 = the initialisation, before any warm-up).
        if it > 0 and warmup_warning(int(it), cfg.param_scheduler, ipe) is not None:
            inside.append(_id(path))
        if fam == 'pascal_voc' and '-rw600it' in path:
            assert s.rewind_iter == 600 == warmup_end(cfg.param_scheduler, ipe), path
    assert sorted(inside) == [C4 + 'keep20-rw200it_12e_voc07', C4 + 'keep20-rw400it_12e_voc07']


def test_voc_configs_are_the_papers_voc2007_setting(cache):
    """VOC2007 trainval (x2 = the flipped copies) for training, VOC2007 test, batch 12,
    12 epochs with the LR decay after epoch 10 (iteration 8,360; the paper: 8,350)."""
    for path in ZOO:
        if _family(path) != 'pascal_voc':
            continue
        cfg = cache.config(path)
        train = cfg.train_dataloader.dataset
        assert train.type == 'RepeatDataset' and train.times == 2
        assert train.dataset.ann_file == 'VOC2007/ImageSets/Main/trainval.txt'
        assert cfg.val_dataloader.dataset.ann_file == 'VOC2007/ImageSets/Main/test.txt'
        assert cfg.auto_scale_lr.base_batch_size == 12
        assert cfg.train_cfg.max_epochs == 12
        decay = [s for s in cfg.param_scheduler if s['type'] == 'MultiStepLR']
        assert [d['milestones'] for d in decay] == [[10]]


def test_quickstarts_sharing_a_data_root_generate_the_same_data(cache):
    """Synthetic data are generated once per `data_root`; a config asking another size of
    the same folder would stop with an error, so every dataloader of every quickstart that
    uses a folder must ask the same parameters."""
    params = {}
    for path in ZOO:
        if _family(path) != 'quickstart':
            continue
        cfg = cache.config(path)
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            ds = cfg[key].dataset
            want = dict(ds.synthetic)
            have = params.setdefault(ds.data_root, (want, f'{_id(path)}.{key}'))
            assert have[0] == want, f'{_id(path)}.{key} vs {have[1]}: {ds.data_root}'
        ann = cfg.val_evaluator.get('ann_file')
        if ann is not None:
            assert ann == cfg.val_dataloader.dataset.data_root + \
                'annotations/instances_val.json'


def test_metafiles_list_exactly_the_zoo(metafile_models):
    # Families outside zoo_table.FAMILIES (keypoint_rcnn) are checked by their own tests.
    metafile_models = {k: v for k, v in metafile_models.items()
                       if v['metafile'].split('/')[1] in zoo_table.FAMILIES}
    assert set(metafile_models) == {_id(p) for p in ZOO}
    for path in ZOO:
        m = metafile_models[_id(path)]
        assert m['Config'] == path
        assert m['metafile'] == f'configs/{_family(path)}/metafile.yml'
        assert {'Training Data', 'Architecture', 'Network Sparsity (%)',
                'Prunable Sparsity (%)'} <= set(m['Metadata'])
        assert m['Results'] and all({'Task', 'Dataset'} <= set(r) for r in m['Results'])


def test_readme_check_reports_differences(tmp_path):
    rows = [dict(name='a_lth-keep20_x', family='faster_rcnn', target='80%', network='78.32%')]
    good = ('| [a_lth-keep20_x](faster_rcnn/a_lth-keep20_x.py) | R-18 | s | 80% | 78.32% '
            '| p |  |\n')
    readme = tmp_path / 'README.md'
    readme.write_text(good)
    assert zoo_table.check_readme(str(readme), rows) == []
    readme.write_text(good.replace('78.32%', '78.40%') +
                      '| [gone](faster_rcnn/gone.py) | R-18 | s | 80% | 1.00% | p |  |\n')
    errors = zoo_table.check_readme(str(readme), rows)
    assert any('78.40%' in e and '78.32%' in e for e in errors), errors
    assert any(e.startswith('gone:') for e in errors), errors
    readme.write_text('')
    assert zoo_table.check_readme(str(readme), rows) == [
        f'a_lth-keep20_x: missing from {readme}']


# ------------------------------------------------------------------------------------
# every config
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize('path', ZOO, ids=_id)
def test_config_loads_and_model_builds(path, cache):
    cfg = cache.config(path)
    assert cfg.runner_type == 'LotteryRunner'
    assert 'lth_mm' in cfg.custom_imports['imports']
    settings = zoo_table.lottery_settings(cfg)  # validates the lottery block
    name = _id(path)
    if '-dense' in name:
        assert settings.keep_ratios() == [1.0]
    else:
        keep = int(name.split('keep')[1][:2]) / 100
        assert settings.keep_ratios()[-1] == pytest.approx(keep)
    bb = cfg.model.backbone
    if '_r18_' in name or '_res18_' in name:
        assert bb.depth == 18
        if 'neck' in cfg.model:
            assert list(cfg.model.neck.in_channels) == [64, 128, 256, 512]
        elif _is_pose(cfg):
            assert cfg.model.head.in_channels == 512
        else:  # C4: res5 is the RoI head
            assert cfg.model.roi_head.bbox_head.in_channels == 512
        if _family(path) != 'quickstart':
            assert bb.init_cfg.checkpoint == 'torchvision://resnet18'
    model = cache.model(cfg)
    assert sum(p.numel() for p in model.parameters()) > 1e6


@pytest.mark.parametrize('path', ZOO, ids=_id)
def test_network_sparsity_matches_readme_and_metafile(path, cache, readme_rows,
                                                      metafile_models):
    row = zoo_table.zoo_row(path, cache)
    readme = readme_rows.get(row['name'])
    assert readme is not None, (f"{row['name']} is missing from configs/README.md; "
                                'regenerate with tools/analysis/zoo_table.py')
    assert (readme['target'], readme['network'], readme['paper']) == (
        row['target'], row['network'], row['paper'])
    meta = metafile_models[row['name']]['Metadata']
    assert float(meta['Network Sparsity (%)']) == pytest.approx(
        100 * row['network_sparsity'], abs=0.005)
    assert float(meta['Prunable Sparsity (%)']) == pytest.approx(100 * (1 - row['keep']))


def test_paper_sparsities_of_the_r18_tickets(cache):
    """Paper Table 4 (R18 Mask R-CNN, keep 20% -> 78.4%) is reproduced by our Mask R-CNN;
    the top-down keypoint model is not Keypoint R-CNN (paper: 79.4%) and lands near it."""
    rows = {r['name']: r for r in zoo_table.zoo_rows(
        ['configs/mask_rcnn/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py',
         'configs/topdown_heatmap/td-hm_res18_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py'],
        cache)}
    seg = rows['mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco']
    assert seg['n_total'] == pytest.approx(31.33e6, rel=0.003)
    assert seg['network_sparsity'] == pytest.approx(0.784, abs=0.001)
    kp = rows['td-hm_res18_lth-keep20-rw2ep_8xb64-210e_coco-256x192']
    assert 0.78 < kp['network_sparsity'] < 0.80


def _find_pipeline(dataset_cfg):
    """The pipeline of a dataset config, through Repeat/Concat wrappers."""
    while 'pipeline' not in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset'] if 'dataset' in dataset_cfg else \
            dataset_cfg['datasets'][0]
    return dataset_cfg['pipeline']


def _synthetic_dataset(cfg, root, split, pipeline):
    """A synthetic dataset config of the config's task for ``split`` ('train'/'val')."""
    common = dict(data_root=root, synthetic=TINY, pipeline=pipeline,
                  test_mode=split == 'val')
    if _is_pose(cfg):
        return dict(type='SyntheticPoseDataset', data_mode='topdown',
                    ann_file=f'annotations/instances_{split}.json',
                    data_prefix=dict(img=f'images/{split}/'), **common)
    if _is_voc(cfg):
        return dict(type='SyntheticVOCDataset',
                    ann_file='VOCdevkit/VOC2007/ImageSets/Main/'
                    f"{'trainval' if split == 'train' else 'test'}.txt",
                    data_prefix=dict(sub_data_root='VOCdevkit/VOC2007/'), **common)
    return dict(type='SyntheticCocoDataset', ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img=f'images/{split}/'), **common)


_SAMPLE_CACHE = {}


def _sample(cfg, root, split):
    """The raw data info of the first synthetic sample (no transform applied)."""
    from mmengine.registry import DATASETS, init_default_scope
    scope = cfg.get('default_scope', 'mmdet')
    key = (scope, _is_voc(cfg), split)
    if key not in _SAMPLE_CACHE:
        init_default_scope(scope)
        ds = DATASETS.build(_synthetic_dataset(cfg, root, split, []))
        _SAMPLE_CACHE[key] = ds.get_data_info(0)
    return copy.deepcopy(_SAMPLE_CACHE[key])


@pytest.mark.parametrize('path', ZOO, ids=_id)
def test_pipelines_run_on_synthetic_data(path, synthetic_root, cache):
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    cfg = cache.config(path)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    for split, loader in (('train', cfg.train_dataloader), ('val', cfg.val_dataloader)):
        pipeline = Compose(copy.deepcopy(_find_pipeline(loader.dataset)))
        out = pipeline(_sample(cfg, synthetic_root, split))
        assert out is not None, f'{split} pipeline dropped the sample'
        inputs, data_sample = out['inputs'], out['data_samples']
        assert inputs.ndim == 3 and inputs.shape[0] == 3
        if split == 'train':
            if _is_pose(cfg):
                assert data_sample.gt_fields.heatmaps.shape[0] == 5  # synthetic keypoints
            else:
                assert len(data_sample.gt_instances.bboxes) >= 1


# ------------------------------------------------------------------------------------
# two real training iterations per family (a dense one and one of the ticket)
# ------------------------------------------------------------------------------------
RUN_CONFIGS = {
    'det': ('configs/faster_rcnn/faster-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py',
            'coco/bbox_mAP'),
    'seg': ('configs/mask_rcnn/mask-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py',
            'coco/segm_mAP'),
    'keypoints': ('configs/topdown_heatmap/'
                  'td-hm_res18_lth-keep20-rw2ep_8xb64-210e_coco-256x192.py', 'coco/AP'),
    'voc': ('configs/pascal_voc/faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py',
            'pascal_voc/mAP'),
}
TINY_CODEC = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2)


def _shrink(pipeline):
    """The config's pipeline at 64 px."""
    pipeline = copy.deepcopy(pipeline)
    for t in pipeline:
        if t['type'] == 'Resize' and 'scale' in t:
            t['scale'] = (64, 64)
        if 'input_size' in t:
            t['input_size'] = TINY_CODEC['input_size']
        if 'encoder' in t:
            t['encoder'] = dict(TINY_CODEC)
    return pipeline


def tiny_run_cfg(cfg, root, work_dir):
    """A zoo config on the tiny synthetic data at 64 px, as two rounds of one iteration:
    the dense round and the keep-20% ticket rewound to the initialisation, each evaluated.

    Besides sizes (data, input size, RoI sampling) only the outputs change: the 4
    classes of the synthetic shapes (the COCO / VOC evaluators index the dataset's
    categories with the predicted labels) and their 5 heatmaps for the pose model.
    """
    cfg.model = strip_init_cfg(cfg.model)  # no download
    for split, key in (('train', 'train_dataloader'), ('val', 'val_dataloader'),
                       ('val', 'test_dataloader')):
        loader = cfg[key]
        pipeline = _shrink(_find_pipeline(loader.dataset))
        loader.dataset = _synthetic_dataset(cfg, root, split, pipeline)
        loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    if _is_pose(cfg):
        cfg.model.head.out_channels = 5
        cfg.model.head.decoder = dict(TINY_CODEC)
    else:  # CPU-sized sampling; score_thr 0: an untrained detector still outputs boxes
        for head in ('bbox_head', 'mask_head'):
            if head in cfg.model.roi_head:
                cfg.model.roi_head[head].num_classes = 4
        cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
        cfg.model.train_cfg.rcnn.sampler.num = 32
        cfg.model.test_cfg.rpn.update(nms_pre=200, max_per_img=100)
        cfg.model.test_cfg.rcnn.score_thr = 0.0
    for key in ('val_evaluator', 'test_evaluator'):
        if 'ann_file' in cfg[key]:
            cfg[key].ann_file = osp.join(root, 'annotations', 'instances_val.json')
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1, val_interval=1)
    cfg.param_scheduler = []
    # no periodic checkpoints (the lottery hook still writes round_*/final.pth)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False,
                                        interval=-1, save_last=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
    cfg.lottery.update(rounds=2, keep_ratio=0.2, rewind_epochs=None, rewind_iter=0,
                       controls=[])
    cfg.randomness = dict(seed=0)
    cfg.work_dir = str(work_dir)
    return cfg


@pytest.mark.parametrize('family', list(RUN_CONFIGS))
def test_two_training_iterations_through_the_runner(family, synthetic_root, tmp_path,
                                                     cache):
    path, metric = RUN_CONFIGS[family]
    cfg = tiny_run_cfg(unformatted(cache.config(path)), synthetic_root, tmp_path / 'work')
    _, rows = train_rounds(cfg)
    assert [r['kind'] for r in rows] == ['dense', 'ticket']
    assert metric in rows[1]['metrics'], rows[1]['metrics']
    assert rows[1]['prunable_sparsity'] == pytest.approx(0.8, abs=1e-4)
    assert rows[1]['zero_fraction_of_prunable'] >= 0.8 - 1e-4
    assert (tmp_path / 'work' / 'round_1' / 'final.pth').is_file()
    # The engine's network sparsity is zoo_table's (the README's formula) on this model.
    n_prunable, n_total = cache.counts(cfg, zoo_table.lottery_settings(cfg).scope_dict)
    assert rows[1]['network_sparsity'] == pytest.approx(
        zoo_table.network_sparsity(n_prunable, n_total, 0.2), abs=1e-9)

