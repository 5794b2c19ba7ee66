"""EvalArtifactsHook and the analysis report (tools/analysis/report.py) end to end on the toy
lottery run.

A toy COCO-style metric writes hand-written COCO results (the dense round perfect, the
ticket round with known errors), so the COCO analyses have known answers without a
detector: the hook keeps them per round and the report draws every figure they support.
"""
import json
import os.path as osp

import pytest
from pycocotools import mask as mask_utils
from mmengine.evaluator import BaseMetric
from mmengine.registry import DATASETS, METRICS

from lth_mm import paths
from lth_mm.analysis.collect import COCO_EVAL_JSON, META_JSON
from lth_mm.analysis.coco_breakdown import load_coco
from lth_mm.analysis.report import build_report

from _toy import LTHToyDataset, build_runner, toy_cfg

CLASSES = ('a', 'b', 'c', 'd')
# (image, category, box): small (< 32^2), medium and large objects of four categories.
GT_BOXES = [(1, 1, [5, 5, 20, 20]), (1, 2, [50, 50, 60, 60]), (1, 3, [120, 10, 30, 30]),
            (2, 1, [10, 100, 120, 120]), (2, 4, [150, 150, 25, 25]), (2, 2, [5, 5, 40, 40])]


def _gt():
    anns = []
    for i, (img, c, b) in enumerate(GT_BOXES):
        x, y, w, h = b
        anns.append(dict(id=i + 1, image_id=img, category_id=c, bbox=b, area=w * h,
                         iscrowd=0, segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
    return dict(images=[dict(id=i, width=300, height=300, file_name=f'{i}.png')
                        for i in (1, 2)],
                categories=[dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)],
                annotations=anns)


def _dets(lottery_round):
    dets = []
    for img, c, b in GT_BOXES:
        if lottery_round > 0 and b[2] * b[3] < 32 ** 2:
            continue  # the ticket misses the small objects ...
        if lottery_round > 0 and c == 3:
            c = 4  # ... and classifies the c as a d
        x, y, w, h = b
        # results carry RLE masks, as mmdet writes them
        rle = mask_utils.merge(mask_utils.frPyObjects(
            [[x, y, x + w, y, x + w, y + h, x, y + h]], 300, 300))
        rle['counts'] = rle['counts'].decode()
        dets.append(dict(image_id=img, category_id=c, bbox=b, score=0.9, segmentation=rle))
    return dets


@METRICS.register_module(force=True)
class LTHToyCocoMetric(BaseMetric):
    """Writes hand-written COCO results as mmdet's CocoMetric would (outfile_prefix)."""
    default_prefix = 'coco'

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._coco_api = load_coco(_gt())
        self.metrics = ['bbox', 'segm']
        self.outfile_prefix = None
        self.round = 0

    def results2json(self, results, outfile_prefix):
        dets = _dets(self.round)
        for t in self.metrics:
            with open(f'{outfile_prefix}.{t}.json', 'w') as f:
                json.dump([{k: v for k, v in d.items()
                            if k != ('segmentation' if t == 'bbox' else 'bbox')}
                           for d in dets], f)

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        self.results2json(None, self.outfile_prefix)
        return dict(bbox_mAP=1.0 if self.round == 0 else 0.5)


def _person(i, dx):
    k = [30 + dx, 10, 2, 0 + dx, 40, 2, 60 + dx, 40, 2]  # nose, left, right
    return dict(id=i, image_id=1, category_id=1, keypoints=k, num_keypoints=3, area=10000,
                bbox=[dx, 0, 100, 100], iscrowd=0)


KP_GT = dict(images=[dict(id=1, width=600, height=200)],
             categories=[dict(id=1, name='person')],
             annotations=[_person(1, 0), _person(2, 300)])


@METRICS.register_module(force=True)
class LTHToyKeypointMetric(LTHToyCocoMetric):
    """Hand-written keypoint results, as mmpose's CocoMetric writes them: the ticket puts
    person A's nose on person B's (a swap) and B's left and right the wrong way round."""
    default_prefix = 'kpt'

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        del self._coco_api, self.metrics
        self.coco = load_coco(KP_GT)

    @property
    def dataset_meta(self):  # what mmpose's dataset metainfo gives its CocoMetric
        return dict(sigmas=[0.1, 0.1, 0.1], flip_indices=[0, 2, 1])

    @dataset_meta.setter
    def dataset_meta(self, value):
        pass

    def results2json(self, results, outfile_prefix):
        a, b = list(KP_GT['annotations'][0]['keypoints']), list(
            KP_GT['annotations'][1]['keypoints'])
        if self.round > 0:
            a[0:2] = b[0:2]
            b[3:5], b[6:8] = b[6:8], b[3:5]
        dets = [dict(image_id=1, category_id=1, keypoints=a, score=0.9),
                dict(image_id=1, category_id=1, keypoints=b, score=0.8)]
        with open(f'{outfile_prefix}.keypoints.json', 'w') as f:
            json.dump(dets, f)

    def compute_metrics(self, results):
        self.results2json(None, self.outfile_prefix)
        return dict(AP=1.0)


@DATASETS.register_module(force=True)
class LTHToyDetDataset(LTHToyDataset):
    """The toy data with mmdet-style annotations: one instance of its class per sample."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metainfo = dict(classes=CLASSES)

    def get_data_info(self, i):
        return dict(instances=[dict(bbox_label=int(self.labels[i]), ignore_flag=0)])


def _run(tmp_path):
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module(force=True)
    class LTHToyRoundToMetric(Hook):  # tells the toy metric which round it evaluates
        def before_train(self, runner):
            from lth_mm.engine import round_info
            for m in runner.val_loop.evaluator.metrics:
                m.round = round_info(runner)['round']

    cfg = toy_cfg(tmp_path / 'wd', val_evaluator=[dict(type='LTHToyCocoMetric'),
                                                  dict(type='LTHToyKeypointMetric')],
                  custom_hooks=[dict(type='LTHToyRoundToMetric'),
                                dict(type='EvalArtifactsHook'),
                                dict(type='ValLossHook')])
    cfg.train_dataloader.dataset.type = 'LTHToyDetDataset'
    cfg.train_cfg.max_epochs = 2
    cfg.default_hooks.checkpoint.save_best = None
    build_runner(cfg).train()
    return str(tmp_path / 'wd')


def test_eval_artifacts_and_report(tmp_path):
    wd = _run(tmp_path)
    for r in (0, 1):
        res = paths.results_dir(wd, r)
        assert osp.isfile(osp.join(res, 'results.bbox.json'))
        assert osp.isfile(osp.join(res, 'results.segm.json'))
    ev0 = json.load(open(osp.join(paths.results_dir(wd, 0), COCO_EVAL_JSON)))
    ev1 = json.load(open(osp.join(paths.results_dir(wd, 1), COCO_EVAL_JSON)))
    assert {c: v['AP'] for c, v in ev0['bbox']['per_category'].items()} == {
        'a': pytest.approx(1.0), 'b': pytest.approx(1.0), 'c': pytest.approx(1.0),
        'd': pytest.approx(1.0)}
    # ticket: a lost its small box (1 of 2 found), c is never predicted, d has an extra
    # false positive (the c box) scored like its true one
    assert ev1['bbox']['per_category']['a']['AP'] == pytest.approx(51 / 101)
    assert ev1['bbox']['per_category']['c']['AP'] == 0
    assert ev1['bbox']['stats']['AP_small'] == 0
    assert ev0['bbox']['stats']['AP_small'] == pytest.approx(1.0)
    meta = json.load(open(osp.join(paths.results_dir(wd, 1), META_JSON)))
    assert meta['iou_types'] == ['bbox', 'segm', 'keypoints']
    assert osp.isfile(meta['gt_files']['bbox']) and osp.isfile(meta['gt_files']['keypoints'])
    assert meta['gt_files']['bbox'] != meta['gt_files']['keypoints']
    assert meta['sigmas'] == [0.1, 0.1, 0.1] and meta['flip_indices'] == [0, 2, 1]
    assert ev1['keypoints']['stats']['AP'] < ev0['keypoints']['stats']['AP'] == 1.0
    assert sum(meta['train_instances'].values()) == 32  # the 32 toy training samples

    out = tmp_path / 'report'
    build_report([wd], str(out), n_bins=2, progress=False)
    for png in ('sparsity_vs_metric', 'size', 'frequency', 'difficulty', 'tide_bbox',
                'tide_segm', 'keypoint_errors', 'convergence', 'per_layer'):
        assert (out / f'{png}.png').stat().st_size > 5000, png
    assert not (out / 'early_bird.png').exists()  # EarlyBirdHook was not on
    md = (out / 'report.md').read_text()
    assert 'AP_small' in md and '-100.0%' in md  # every small object lost
    assert '(tide_bbox.png)' in md and '(tide_segm.png)' in md
    html = (out / 'report.html').read_text()
    assert html.count('data:image/png;base64,') == 9
    # keypoint table: the ticket's swap (1 of 6 keypoints) and inversion (2 of 6)
    kp = [line for line in md.splitlines() if line.startswith('| r1 ticket')
          and line.count('%') >= 5][0].split(' | ')
    assert kp[-6:-1] == ['50.0%', '0.0%', '16.7%', '33.3%', '0.0%']


def test_report_refuses_a_work_dir_without_summary(tmp_path):
    with pytest.raises(FileNotFoundError, match='lottery_summary.json'):
        build_report([str(tmp_path)], str(tmp_path / 'r'), progress=False)
    assert not (tmp_path / 'r').exists()


def test_sparsity_figure_averages_seeds(tmp_path):
    """Work_dirs differing only by a _seedN suffix are one line: mean and spread."""
    from lth_mm.analysis.report import build_report
    from lth_mm.report import write_summary

    def row(r, kind, keep, ap):
        return dict(round=r, kind=kind, keep_ratio=keep, prunable_sparsity=1 - keep,
                    network_sparsity=0.98 * (1 - keep), zero_fraction_of_prunable=1 - keep,
                    metrics={'coco/bbox_mAP': ap}, extras={})
    dirs = []
    for seed, (dense, ticket) in enumerate([(0.30, 0.28), (0.32, 0.26)]):
        wd = str(tmp_path / f'r18_keep20_seed{seed}')
        write_summary(wd, dict(rounds=[row(0, 'dense', 1.0, dense),
                                       row(1, 'ticket', 0.2, ticket)]))
        dirs.append(wd)
    out = build_report(dirs, str(tmp_path / 'rep'))
    assert [osp.basename(f) for f in out['figures']] == ['sparsity_vs_metric.png']
    md = open(out['markdown']).read()
    # AP in %, sample standard deviation (n - 1) as tools/seeds.py
    assert '| r18_keep20 dense | box AP | 1 | 0.0 | 31.00 | 1.41 | 2 |' in md
    assert '| r18_keep20 | box AP | 0.2 | 78.4 | 27.00 | 1.41 | 2 |' in md
