# Copyright (c) lth_mm authors. All rights reserved.
"""Keep each lottery round's final evaluation on disk, so every analysis runs offline.

At the start of a round (``before_train`` of the round's Runner) the hook points every COCO-style metric of the validation evaluator
(mmdet's and mmpose's ``CocoMetric``: anything with ``outfile_prefix`` and
``results2json``) at ``round_{r}/results/results``; each evaluation of the round then
writes its COCO-format predictions there (``results.bbox.json``, ``results.segm.json``,
``results.keypoints.json``) and the last one, the round's final evaluation, stays. When the
round ends (``after_train``, after :class:`LotteryRoundHook`'s final evaluation) the hook re-runs pycocotools' COCOeval on those files to keep the per-category
AP (its precision array) in ``coco_eval.json``, and records in ``meta.json`` what the
analyses need besides: the ground-truth file, keypoint sigmas and flip pairs, and the
training-instance count of each category.
"""
import os
import os.path as osp
from collections import Counter
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ... import paths
from ...paths import COCO_EVAL_JSON, META_JSON
from ...paths import RESULT_PREFIX as PREFIX
from ...fileio import atomic_write_json
from .lottery_round_hook import round_location


def result_file(results_dir: str, iou_type: str) -> str:
    """The COCO results file a metric writes for ``iou_type`` under ``results_dir``."""
    return osp.join(results_dir, f'{PREFIX}.{iou_type}.json')


@HOOKS.register_module()
class EvalArtifactsHook(Hook):
    """Keep the COCO results and per-category AP of each round's final evaluation.

    Args:
        train_counts: count the training instances of each category (for the frequency
            analysis; one pass over the training annotations, not the images).
    """
    priority = 'NORMAL'  # after LotteryRoundHook (ABOVE_NORMAL), which evaluates last

    def __init__(self, train_counts: bool = True):
        self.train_counts = train_counts

    @staticmethod
    def _coco_metrics(runner) -> list:
        loop = getattr(runner, 'val_loop', None)
        evaluator = getattr(loop, 'evaluator', None)
        return [m for m in getattr(evaluator, 'metrics', []) or []
                if hasattr(m, 'outfile_prefix') and hasattr(m, 'results2json')]

    def before_train(self, runner) -> None:
        """Point the metrics' ``outfile_prefix`` at this round's results directory."""
        metrics = self._coco_metrics(runner)
        if not metrics:
            runner.logger.warning(
                '[EvalArtifactsHook] the validation evaluator has no COCO-style metric '
                '(mmdet/mmpose CocoMetric): no per-round results will be kept.')
            return
        out = paths.results_dir(*round_location(runner))
        if is_main_process():
            os.makedirs(out, exist_ok=True)
        for m in metrics:
            m.outfile_prefix = osp.join(out, PREFIX)

    def after_train(self, runner) -> None:
        """Write ``coco_eval.json`` and ``meta.json`` for the round's final evaluation."""
        if not is_main_process():
            return
        from ...analysis.coco_breakdown import coco_eval
        experiment_dir, lottery_round = round_location(runner)
        out = paths.results_dir(experiment_dir, lottery_round)
        evals, meta = {}, dict(round=lottery_round, kind=round_location(runner, 'kind'),
                               iou_types=[])
        for i, m in enumerate(self._coco_metrics(runner)):
            coco = getattr(m, '_coco_api', None) or getattr(m, 'coco', None)
            if coco is None:
                continue
            gt_file = self._gt_file(runner, m, i, out)
            meta.setdefault('gt_file', gt_file)  # the first metric's
            dataset_meta = m.dataset_meta or {}
            # mmpose: the dataset's sigmas; lth_mm's CocoKeypointMetric may override them.
            sigmas = getattr(m, 'sigmas', None) or dataset_meta.get('sigmas')
            if sigmas is not None and 'keypoints' in self._iou_types(m):
                meta['sigmas'] = [float(s) for s in sigmas]
                meta['flip_indices'] = [int(j) for j in dataset_meta.get('flip_indices', [])]
            for iou_type in self._iou_types(m):
                res = result_file(out, iou_type)
                if not osp.isfile(res):
                    continue
                try:
                    evals[iou_type] = coco_eval(coco.dataset, res, iou_type,
                                                sigmas=meta.get('sigmas'))
                except Exception as e:  # noqa: BLE001  an analysis must not end training
                    runner.logger.warning(
                        f'[EvalArtifactsHook] COCOeval of {res} failed ({type(e).__name__}: '
                        f'{e}); the round\'s {iou_type} breakdowns will be missing.')
                    continue
                meta['iou_types'].append(iou_type)
                meta.setdefault('gt_files', {})[iou_type] = gt_file
        if not evals:
            return
        if self.train_counts:
            counts = self._train_instances(runner)
            if counts:
                meta['train_instances'] = counts
        atomic_write_json(evals, osp.join(out, COCO_EVAL_JSON))
        atomic_write_json(meta, osp.join(out, META_JSON))

    @staticmethod
    def _iou_types(metric) -> List[str]:
        if hasattr(metric, 'metrics'):  # mmdet: ['bbox', 'segm', 'proposal', ...]; lth_mm's
            # CocoKeypointMetric (Keypoint R-CNN) adds 'keypoints'
            return [t for t in metric.metrics if t in ('bbox', 'segm', 'keypoints')]
        return ['keypoints']

    @staticmethod
    def _gt_file(runner, metric, index: int, out: str) -> str:
        """The ground-truth json of a metric: its ``ann_file``, the one it converted, or a
        copy of its ground truth written beside the results."""
        ann = getattr(metric, 'ann_file', None)
        if ann is None:  # mmdet's CocoMetric keeps only the COCO object: read the config
            cfg = runner.cfg.get('val_evaluator')
            cfgs = cfg if isinstance(cfg, (list, tuple)) else cfg.get('metrics', cfg)
            cfgs = cfgs if isinstance(cfgs, (list, tuple)) else [cfgs]
            if index < len(cfgs):
                ann = cfgs[index].get('ann_file')
        if ann and osp.isfile(ann):
            return osp.abspath(ann)
        converted = osp.join(out, f'{PREFIX}.gt.json')  # mmdet's conversion without ann_file
        if hasattr(metric, 'metrics') and osp.isfile(converted):
            return osp.abspath(converted)
        coco = getattr(metric, '_coco_api', None) or getattr(metric, 'coco', None)
        path = osp.join(out, f'{PREFIX}.gt{index}.json')
        atomic_write_json(coco.dataset, path)
        return osp.abspath(path)

    @staticmethod
    def _train_instances(runner) -> Optional[dict]:
        """``{class name: training instances}`` from the training dataset's annotations."""
        loop = getattr(runner, 'train_loop', None)
        ds = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        while ds is not None and not hasattr(ds, 'get_data_info') and hasattr(ds, 'dataset'):
            ds = ds.dataset  # RepeatDataset / ClassBalancedDataset wrappers
        classes = (getattr(ds, 'metainfo', None) or {}).get('classes')
        if ds is None or not classes or not hasattr(ds, 'get_data_info'):
            return None
        counter = Counter()
        for i in range(len(ds)):
            for inst in ds.get_data_info(i).get('instances', []):
                label = inst.get('bbox_label')
                if label is not None and not inst.get('ignore_flag', 0):
                    counter[int(label)] += 1
        if not counter:
            return None
        return {classes[k]: counter.get(k, 0) for k in range(len(classes))}
