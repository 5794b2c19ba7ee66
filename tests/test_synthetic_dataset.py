# Copyright (c) lth_mm authors. All rights reserved.
"""Tests of the synthetic shapes dataset: generator, on-first-use creation, the mmdet /
mmpose dataset classes and COCO evaluation with ground truth as predictions (which proves
the files are valid COCO for bbox, segm and keypoint evaluation).

The generator tests need only numpy, cv2 and pycocotools; the mmdet / mmpose tests skip
when those libraries are missing. Sizes are small so the file runs in well under a minute
on 2 CPU cores.
"""
import importlib
import json
import multiprocessing
import os
import os.path as osp
import runpy
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from lth_mm.datasets import synthetic
from lth_mm.datasets.synthetic import (DEFAULT_SYNTHETIC, FLIP_PAIRS, KEYPOINT_NAMES,
                                       SIGMAS, SKELETON, SYNTHETIC_CLASSES,
                                       ensure_synthetic_dataset, generate_synthetic_dataset)

# pycocotools 2.0 + numpy 2 warn about __array__(copy=...) inside pycocotools itself.
pytestmark = pytest.mark.filterwarnings('ignore:__array__ implementation:DeprecationWarning')

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
METAINFO_FILE = osp.join(REPO_ROOT, 'lth_mm', 'datasets', 'metainfo', 'synthetic_shapes.py')

# Default image size, enough images for every COCO area range to show up.
MAIN_PARAMS = dict(num_train=48, num_val=12, img_size=192, seed=0, voc=True)
TINY_PARAMS = dict(num_train=4, num_val=2, img_size=96, seed=3, voc=True)


@pytest.fixture(scope='module')
def dataset_root(tmp_path_factory):
    """One synthetic dataset shared by the read-only tests of this module."""
    root = str(tmp_path_factory.mktemp('synthetic') / 'lth_synthetic')
    return ensure_synthetic_dataset(root, **MAIN_PARAMS)


def _snapshot(folder):
    """{relative path: (size, mtime_ns)} of every file below ``folder``."""
    snap = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = osp.join(dirpath, name)
            st = os.stat(path)
            snap[osp.relpath(path, folder)] = (st.st_size, st.st_mtime_ns)
    return snap


def _read_all(folder):
    out = {}
    for rel in _snapshot(folder):
        with open(osp.join(folder, rel), 'rb') as f:
            out[rel] = f.read()
    return out


# ------------------------------------------------------------------------------------
# generator
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize('split', ['train', 'val'])
def test_coco_annotations_are_consistent(dataset_root, split):
    coco = COCO(osp.join(dataset_root, 'annotations', f'instances_{split}.json'))
    assert len(coco.imgs) == MAIN_PARAMS[f'num_{split}']
    assert sorted(coco.cats) == [1, 2, 3, 4]
    for cat in coco.cats.values():
        assert cat['name'] == SYNTHETIC_CLASSES[cat['id'] - 1]
        assert cat['keypoints'] == list(KEYPOINT_NAMES)
        assert cat['skeleton'] == SKELETON
    for img in coco.imgs.values():
        assert osp.isfile(osp.join(dataset_root, 'images', split, img['file_name']))
        assert 1 <= len(coco.getAnnIds(imgIds=img['id'])) <= 5
    for ann in coco.anns.values():
        img = coco.imgs[ann['image_id']]
        mask = coco.annToMask(ann).astype(bool)
        assert ann['iscrowd'] == 0
        assert mask.sum() == ann['area'] > 0
        ys, xs = np.nonzero(mask)
        x, y, w, h = ann['bbox']
        np.testing.assert_allclose([x, y, x + w, y + h],
                                   [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], atol=1)
        kpts = np.asarray(ann['keypoints'], dtype=float).reshape(-1, 3)
        assert kpts.shape == (len(KEYPOINT_NAMES), 3)
        assert set(kpts[:, 2]) <= {1, 2}
        assert ann['num_keypoints'] == int((kpts[:, 2] > 0).sum())
        assert (kpts[:, 0] >= 0).all() and (kpts[:, 0] <= img['width']).all()
        assert (kpts[:, 1] >= 0).all() and (kpts[:, 1] <= img['height']).all()
        # Visible keypoints lie on the visible shape, so inside its box (1 px slack for
        # the outline falling between pixel centres).
        vis = kpts[kpts[:, 2] == 2]
        assert (vis[:, 0] >= x - 1).all() and (vis[:, 0] <= x + w + 1).all()
        assert (vis[:, 1] >= y - 1).all() and (vis[:, 1] <= y + h + 1).all()


def test_skeleton_and_flip_constants():
    num = len(KEYPOINT_NAMES)
    assert all(1 <= a <= num and 1 <= b <= num and a != b for a, b in SKELETON)
    assert len(SIGMAS) == num
    names = dict(enumerate(KEYPOINT_NAMES))
    assert [(names[a], names[b]) for a, b in FLIP_PAIRS] == [('right', 'left')]


def test_metainfo_file_matches_constants():
    info = runpy.run_path(METAINFO_FILE)['dataset_info']
    kinfo = info['keypoint_info']
    assert [kinfo[i]['name'] for i in range(len(kinfo))] == list(KEYPOINT_NAMES)
    swaps = {(KEYPOINT_NAMES.index(k['name']), KEYPOINT_NAMES.index(k['swap']))
             for k in kinfo.values() if k['swap']}
    assert swaps == {p for a, b in FLIP_PAIRS for p in ((a, b), (b, a))}
    links = {frozenset(s['link']) for s in info['skeleton_info'].values()}
    assert links == {frozenset((KEYPOINT_NAMES[a - 1], KEYPOINT_NAMES[b - 1]))
                     for a, b in SKELETON}
    assert list(info['sigmas']) == list(SIGMAS)
    assert len(info['joint_weights']) == len(KEYPOINT_NAMES)


def test_all_coco_area_ranges_present(dataset_root):
    with open(osp.join(dataset_root, 'annotations', 'instances_train.json')) as f:
        areas = np.array([a['area'] for a in json.load(f)['annotations']])
    assert (areas < 32**2).sum() > 0
    assert ((areas >= 32**2) & (areas <= 96**2)).sum() > 0
    assert (areas > 96**2).sum() > 0
    with open(osp.join(dataset_root, 'meta.json')) as f:
        meta = json.load(f)
    assert meta['params'] == MAIN_PARAMS
    assert meta['stats']['train']['instances'] == len(areas)


def test_voc_layout_matches_coco(dataset_root):
    voc = osp.join(dataset_root, 'VOCdevkit', 'VOC2007')
    for split, list_name in (('train', 'trainval'), ('val', 'test')):
        with open(osp.join(voc, 'ImageSets', 'Main', f'{list_name}.txt')) as f:
            ids = f.read().split()
        coco = COCO(osp.join(dataset_root, 'annotations', f'instances_{split}.json'))
        assert len(ids) == len(coco.imgs)
        for img in coco.imgs.values():
            stem = osp.splitext(img['file_name'])[0]
            assert stem in ids
            with open(osp.join(voc, 'JPEGImages', img['file_name']), 'rb') as f1, \
                    open(osp.join(dataset_root, 'images', split, img['file_name']), 'rb') as f2:
                assert f1.read() == f2.read()
            root = ET.parse(osp.join(voc, 'Annotations', f'{stem}.xml')).getroot()
            assert int(root.find('size/width').text) == img['width']
            objs = root.findall('object')
            anns = coco.loadAnns(coco.getAnnIds(imgIds=img['id']))
            assert len(objs) == len(anns)
            for obj, ann in zip(objs, anns):
                assert obj.find('name').text == SYNTHETIC_CLASSES[ann['category_id'] - 1]
                assert obj.find('difficult').text == '0'
                box = [int(obj.find(f'bndbox/{k}').text)
                       for k in ('xmin', 'ymin', 'xmax', 'ymax')]
                x, y, w, h = ann['bbox']
                assert box == [x + 1, y + 1, x + w, y + h]  # VOC: 1-based, inclusive


def test_polygons_decode_exactly_or_fall_back_to_rle():
    rng = np.random.default_rng(0)
    ring = np.zeros((40, 40), bool)
    ring[5:30, 5:30] = True
    ring[10:20, 10:20] = False  # a hole: COCO polygons cannot express it
    assert synthetic.mask_to_polygons(ring) is None
    seg = synthetic.encode_segmentation(ring)
    assert isinstance(seg, dict)
    assert np.array_equal(mask_utils.decode({**seg, 'counts': seg['counts'].encode()}), ring)
    diag = np.zeros((10, 10), bool)
    diag[2:4, 2:4] = diag[4:6, 4:6] = True  # two squares touching at one corner
    assert len(synthetic.mask_to_polygons(diag)) == 2
    for _ in range(20):  # random blobs: whatever the encoding, it decodes exactly
        mask = rng.random((30, 30)) > 0.6
        seg = synthetic.encode_segmentation(mask)
        if isinstance(seg, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(seg, 30, 30))
        else:
            rle = {**seg, 'counts': seg['counts'].encode()}
        assert np.array_equal(mask_utils.decode(rle).astype(bool), mask)


def test_generation_is_deterministic(tmp_path):
    generate_synthetic_dataset(str(tmp_path / 'a'), **TINY_PARAMS)
    generate_synthetic_dataset(str(tmp_path / 'b'), **TINY_PARAMS)
    files_a, files_b = _read_all(str(tmp_path / 'a')), _read_all(str(tmp_path / 'b'))
    assert files_a.keys() == files_b.keys()
    assert files_a == files_b
    generate_synthetic_dataset(str(tmp_path / 'c'), **{**TINY_PARAMS, 'seed': 4})
    files_c = _read_all(str(tmp_path / 'c'))
    key = osp.join('annotations', 'instances_train.json')
    assert files_c[key] != files_a[key]
    assert files_c[osp.join('images', 'train', 'train_000000.jpg')] != \
        files_a[osp.join('images', 'train', 'train_000000.jpg')]


def test_val_split_does_not_depend_on_num_train(tmp_path):
    generate_synthetic_dataset(str(tmp_path / 'a'), **{**TINY_PARAMS, 'voc': False})
    generate_synthetic_dataset(str(tmp_path / 'b'),
                               **{**TINY_PARAMS, 'voc': False, 'num_train': 2})
    for name in ('val_000000.jpg', 'val_000001.jpg'):
        with open(tmp_path / 'a' / 'images' / 'val' / name, 'rb') as fa, \
                open(tmp_path / 'b' / 'images' / 'val' / name, 'rb') as fb:
            assert fa.read() == fb.read()
    assert not (tmp_path / 'a' / 'VOCdevkit').exists()


def test_ensure_is_idempotent(tmp_path):
    root = str(tmp_path / 'data' / 'synth')
    assert ensure_synthetic_dataset(root, **TINY_PARAMS) == root
    before = _snapshot(root)
    assert ensure_synthetic_dataset(root + '/', **TINY_PARAMS) == root
    assert _snapshot(root) == before  # nothing rewritten (same mtimes)
    # Only the dataset and its lock file: no temporary folders left behind.
    assert sorted(os.listdir(tmp_path / 'data')) == ['synth', 'synth.lock']
    # A dataset with VOC files also serves a request without them.
    assert ensure_synthetic_dataset(root, **{**TINY_PARAMS, 'voc': False}) == root


def test_ensure_rejects_mismatch_without_touching(tmp_path):
    root = str(tmp_path / 'synth')
    ensure_synthetic_dataset(root, **TINY_PARAMS)
    before = _snapshot(root)
    with pytest.raises(ValueError, match=r'seed .*img_size|img_size.*seed') as err:
        ensure_synthetic_dataset(root, **{**TINY_PARAMS, 'seed': 9, 'img_size': 128})
    assert 'data_root' in str(err.value) and 'delete' in str(err.value)
    assert _snapshot(root) == before


def test_ensure_refuses_foreign_folder(tmp_path):
    root = tmp_path / 'mine'
    root.mkdir()
    (root / 'precious.txt').write_text('user data')
    with pytest.raises(ValueError, match='not an lth_mm synthetic dataset'):
        ensure_synthetic_dataset(str(root), **TINY_PARAMS)
    assert os.listdir(root) == ['precious.txt']
    # An empty folder (e.g. made by hand) is simply filled.
    (tmp_path / 'empty').mkdir()
    ensure_synthetic_dataset(str(tmp_path / 'empty'), **TINY_PARAMS)
    assert (tmp_path / 'empty' / 'meta.json').is_file()


@pytest.mark.parametrize('bad', [dict(num_train=0), dict(img_size=16), dict(seed=-1),
                                 dict(voc='yes'), dict(num_val=2.5), dict(colour=1)])
def test_bad_parameters(tmp_path, bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        ensure_synthetic_dataset(str(tmp_path / 'x'), **bad)
    assert not (tmp_path / 'x').exists()


def _ensure_in_child(root, queue):
    try:
        queue.put(ensure_synthetic_dataset(root, **TINY_PARAMS))
    except Exception as exc:  # reported to the parent
        queue.put(repr(exc))


def test_ensure_is_safe_under_concurrent_callers(tmp_path):
    root = str(tmp_path / 'synth')
    ctx = multiprocessing.get_context('fork')
    queue = ctx.Queue()
    procs = [ctx.Process(target=_ensure_in_child, args=(root, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == [root] * 3
    assert sorted(os.listdir(tmp_path)) == ['synth', 'synth.lock']
    with open(osp.join(root, 'meta.json')) as f:
        assert json.load(f)['params'] == TINY_PARAMS


def test_cli(tmp_path):
    out = str(tmp_path / 'cli')
    args = ['--out', out, '--num-train', '2', '--num-val', '1', '--img-size', '64',
            '--no-voc']
    # Run as a user runs it (tests import lth_mm, never tools by path).
    tool = [sys.executable, osp.join(REPO_ROOT, 'tools', 'misc', 'make_synthetic_data.py')]
    done = subprocess.run(tool + args, capture_output=True, text=True)
    assert done.returncode == 0 and 'synthetic dataset ready' in done.stdout
    done = subprocess.run(tool + args[:-1], capture_output=True, text=True)
    assert done.returncode == 2  # VOC requested, existing data have none
    assert 'voc' in done.stderr


def test_defaults():
    assert DEFAULT_SYNTHETIC == dict(num_train=200, num_val=50, img_size=192, seed=0,
                                     voc=True)


# ------------------------------------------------------------------------------------
# ground truth as predictions
# ------------------------------------------------------------------------------------
def _gt_det_samples(coco, torch, cat_ids):
    """mmdet CocoMetric inputs whose predictions are the (non-crowd) ground truth."""
    samples = []
    for img_id, img in coco.imgs.items():
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id)) if not a['iscrowd']]
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)]
        masks = np.stack([coco.annToMask(a) for a in anns]).astype(bool) if anns else \
            np.zeros((0, img['height'], img['width']), bool)
        samples.append(dict(
            img_id=img_id, ori_shape=(img['height'], img['width']),
            pred_instances=dict(
                bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                scores=torch.ones(len(anns)),
                labels=torch.tensor([cat_ids.index(a['category_id']) for a in anns],
                                    dtype=torch.long),
                masks=torch.from_numpy(masks))))
    return samples


def _eval_det_gt(ann_file, classes):
    torch = pytest.importorskip('torch')
    from mmdet.evaluation import CocoMetric
    metric = CocoMetric(ann_file=ann_file, metric=['bbox', 'segm'])
    metric.dataset_meta = dict(classes=classes)
    coco = COCO(ann_file)
    cat_ids = coco.getCatIds(catNms=list(classes))
    samples = _gt_det_samples(coco, torch, cat_ids)
    metric.process({}, samples)
    return metric.evaluate(size=len(samples))


def _gt_pose_samples(dataset):
    """mmpose CocoMetric inputs (one per top-down instance) predicting the ground truth."""
    samples = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        samples.append(dict(
            id=info['id'], img_id=info['img_id'], category_id=info['category_id'],
            gt_instances=dict(bbox_scores=np.ones(1)),
            pred_instances=dict(keypoints=info['keypoints'].astype(np.float32),
                                keypoint_scores=np.ones(info['keypoints'].shape[:2]))))
    return samples


def _eval_pose_gt(dataset, ann_file):
    from mmpose.evaluation import CocoMetric
    metric = CocoMetric(ann_file=ann_file)
    metric.dataset_meta = dataset.metainfo
    samples = _gt_pose_samples(dataset)
    metric.process({}, samples)
    return metric.evaluate(size=len(samples))


# ------------------------------------------------------------------------------------
# mmdet
# ------------------------------------------------------------------------------------
DET_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs'),
]


def _dataset_registry(scope):
    """``scope``'s DATASETS registry, with lth_mm's datasets registered and ``scope``
    the default scope; skips the test when the library is missing."""
    pytest.importorskip(scope)
    from mmengine.registry import init_default_scope
    import lth_mm  # noqa: F401  (registers the datasets)
    init_default_scope(scope)
    return importlib.import_module(f'{scope}.registry').DATASETS


@pytest.fixture
def mmdet_datasets():
    return _dataset_registry('mmdet')


def test_mmdet_coco_dataset(mmdet_datasets, dataset_root):
    ds = mmdet_datasets.build(dict(
        type='SyntheticCocoDataset', data_root=dataset_root + '/', synthetic=MAIN_PARAMS,
        ann_file='annotations/instances_train.json', data_prefix=dict(img='images/train/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=4), pipeline=DET_PIPELINE))
    assert len(ds) == MAIN_PARAMS['num_train']
    assert ds.metainfo['classes'] == SYNTHETIC_CLASSES
    sample = ds[0]
    gt = sample['data_samples'].gt_instances
    assert sample['inputs'].shape == (3, 192, 192)
    assert len(gt.bboxes) == len(gt.masks) >= 1
    assert gt.masks.to_ndarray().sum() > 0
    assert (gt.labels < len(SYNTHETIC_CLASSES)).all()


def test_mmdet_coco_dataset_generates_on_first_use(mmdet_datasets, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # data_root is relative to the cwd, as in configs
    ds = mmdet_datasets.build(dict(
        type='SyntheticCocoDataset', data_root='data/lth_synthetic/', synthetic=TINY_PARAMS,
        ann_file='annotations/instances_val.json', data_prefix=dict(img='images/val/'),
        test_mode=True, pipeline=DET_PIPELINE))
    assert len(ds) == TINY_PARAMS['num_val']
    assert (tmp_path / 'data' / 'lth_synthetic' / 'meta.json').is_file()
    with pytest.raises(ValueError, match='seed'):
        mmdet_datasets.build(dict(
            type='SyntheticCocoDataset', data_root='data/lth_synthetic/',
            synthetic={**TINY_PARAMS, 'seed': 1}, ann_file='annotations/instances_val.json',
            data_prefix=dict(img='images/val/'), pipeline=DET_PIPELINE))


def test_mmdet_voc_dataset(mmdet_datasets, dataset_root):
    ds = mmdet_datasets.build(dict(
        type='SyntheticVOCDataset', data_root=dataset_root, synthetic=MAIN_PARAMS,
        ann_file='VOCdevkit/VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOCdevkit/VOC2007/'), test_mode=True,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True),
                  dict(type='PackDetInputs')]))
    assert len(ds) == MAIN_PARAMS['num_val']
    assert ds.metainfo['dataset_type'] == 'VOC2007'  # selects VOC07 11-point mAP
    coco = COCO(osp.join(dataset_root, 'annotations', 'instances_val.json'))
    info = ds.get_data_info(0)
    anns = coco.loadAnns(coco.getAnnIds(imgIds=1))
    # mmdet subtracts 1 from the 1-based VOC corners: x1y1 match, x2y2 are 1 px inside.
    want = np.array([[x, y, x + w - 1, y + h - 1] for x, y, w, h in (a['bbox'] for a in anns)])
    got = np.array([inst['bbox'] for inst in info['instances']])
    np.testing.assert_allclose(got, want)
    assert ds[0]['data_samples'].gt_instances.bboxes.shape[0] == len(anns)


def test_mmdet_coco_metric_gt_is_perfect(mmdet_datasets, dataset_root):
    res = _eval_det_gt(osp.join(dataset_root, 'annotations', 'instances_val.json'),
                       SYNTHETIC_CLASSES)
    assert res['coco/bbox_mAP'] > 0.99
    assert res['coco/segm_mAP'] > 0.99


# ------------------------------------------------------------------------------------
# mmpose
# ------------------------------------------------------------------------------------
POSE_PIPELINE = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=(64, 64)),
    dict(type='GenerateTarget',
         encoder=dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16),
                      sigma=2)),
    dict(type='PackPoseInputs'),
]


@pytest.fixture
def mmpose_datasets():
    return _dataset_registry('mmpose')


def test_mmpose_dataset(mmpose_datasets, dataset_root):
    ds = mmpose_datasets.build(dict(
        type='SyntheticPoseDataset', data_root=dataset_root, synthetic=MAIN_PARAMS,
        data_mode='topdown', ann_file='annotations/instances_val.json',
        data_prefix=dict(img='images/val/'), pipeline=POSE_PIPELINE))
    coco = COCO(osp.join(dataset_root, 'annotations', 'instances_val.json'))
    assert len(ds) == len(coco.anns)  # one top-down sample per instance
    assert ds.metainfo['num_keypoints'] == len(KEYPOINT_NAMES)
    assert {frozenset(p) for p in ds.metainfo['flip_pairs']} == \
        {frozenset(p) for p in FLIP_PAIRS}
    assert list(ds.metainfo['flip_indices']) == [0, 3, 2, 1, 4]
    np.testing.assert_allclose(ds.metainfo['sigmas'], SIGMAS)
    sample = ds[0]
    assert sample['inputs'].shape == (3, 64, 64)
    data_sample = sample['data_samples']
    assert data_sample.gt_instances.keypoints.shape == (1, len(KEYPOINT_NAMES), 2)
    assert data_sample.gt_fields.heatmaps.shape == (len(KEYPOINT_NAMES), 16, 16)
    assert float(data_sample.gt_instance_labels.keypoint_weights.sum()) > 0


def test_mmpose_coco_metric_gt_is_perfect(mmpose_datasets, dataset_root):
    ann_file = osp.join(dataset_root, 'annotations', 'instances_val.json')
    ds = mmpose_datasets.build(dict(
        type='SyntheticPoseDataset', data_root=dataset_root, synthetic=MAIN_PARAMS,
        ann_file='annotations/instances_val.json', data_prefix=dict(img='images/val/'),
        test_mode=True, pipeline=[]))
    res = _eval_pose_gt(ds, ann_file)
    assert res['coco/AP'] > 0.99


# ------------------------------------------------------------------------------------
# real COCO files (../shared/data/coco_mini)
# ------------------------------------------------------------------------------------
# ``coco_mini`` (tests/conftest.py) skips when ../shared/data/coco_mini is absent.


def test_coco_mini_mmdet(mmdet_datasets, coco_mini):
    coco_mini = str(coco_mini)
    ann_file = osp.join(coco_mini, 'person_keypoints.json')
    ds = mmdet_datasets.build(dict(
        type='CocoDataset', data_root=coco_mini + '/', ann_file='person_keypoints.json',
        data_prefix=dict(img='images/'), metainfo=dict(classes=('person', )),
        test_mode=True, pipeline=DET_PIPELINE))
    assert len(ds) == 4
    assert ds.metainfo['classes'] == ('person', )
    gt = ds[0]['data_samples'].gt_instances
    assert len(gt.bboxes) == len(gt.masks) >= 1
    res = _eval_det_gt(ann_file, ('person', ))
    assert res['coco/bbox_mAP'] > 0.99
    assert res['coco/segm_mAP'] > 0.99


@pytest.mark.filterwarnings('ignore:The metainfo config file')  # mmpose's own coco.py
def test_coco_mini_mmpose(mmpose_datasets, coco_mini):
    coco_mini = str(coco_mini)
    ann_file = osp.join(coco_mini, 'person_keypoints.json')
    ds = mmpose_datasets.build(dict(
        type='CocoDataset', data_root=coco_mini + '/', ann_file='person_keypoints.json',
        data_prefix=dict(img='images/'), test_mode=True, pipeline=POSE_PIPELINE))
    assert len(ds) >= 1 and ds.metainfo['num_keypoints'] == 17
    assert ds[0]['data_samples'].gt_instances.keypoints.shape == (1, 17, 2)
    res = _eval_pose_gt(ds, ann_file)
    assert res['coco/AP'] > 0.99
