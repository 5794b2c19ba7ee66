# Copyright (c) lth_mm authors. All rights reserved.
"""COCO keypoint AP of a detector that predicts keypoints per detected instance.

:class:`CocoKeypointMetric` is mmdet's :class:`~mmdet.evaluation.CocoMetric` (bbox / segm
AP, COCO json results, ``format_only``) plus the metric ``'keypoints'``: pycocotools'
``COCOeval(gt, dt, 'keypoints')`` (OKS, maxDets 20; GT with ``num_keypoints == 0``
ignored) with the dataset's OKS ``sigmas``. Predictions need ``keypoints`` (N, K, 2) and
``keypoint_scores`` (N, K) in ``pred_instances`` (``KeypointRoIHead`` gives them); they
are written as ``{outfile_prefix}.keypoints.json`` (COCO results format, instance score =
box score, as the reference) beside mmdet's ``.bbox.json``, with the dataset's
``keypoint_offset`` subtracted to go back to COCO's pixel-index convention.

Keys: ``coco/keypoints_mAP``, ``_mAP_50``, ``_mAP_75``, ``_mAP_m``, ``_mAP_l``, ``_AR``.
"""
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence

import numpy as np
from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS
from mmengine.fileio import dump, load
from mmengine.logging import MMLogger
from pycocotools.cocoeval import COCOeval

_KPT_NAMES = ('mAP', 'mAP_50', 'mAP_75', 'mAP_m', 'mAP_l', 'AR')


@METRICS.register_module()
class CocoKeypointMetric(CocoMetric):
    """mmdet's COCO metric with keypoint AP.

    Args:
        metric (str | list[str]): any of ``'keypoints'``, ``'bbox'``, ``'segm'``,
            ``'proposal'``; default ``['bbox', 'keypoints']``.
        sigmas (Sequence[float], optional): OKS sigmas, one per keypoint; default: the
            dataset metainfo's ``sigmas``.
        **kwargs: :class:`mmdet.evaluation.CocoMetric` arguments; ``ann_file`` (the GT
            json with keypoints) is required for keypoint AP.
    """

    def __init__(self, metric=('bbox', 'keypoints'), sigmas: Optional[Sequence[float]] = None,
                 **kwargs):
        metrics = [metric] if isinstance(metric, str) else list(metric)
        if not metrics:
            raise ValueError('CocoKeypointMetric needs at least one metric')
        others = [m for m in metrics if m != 'keypoints']
        super().__init__(metric=others or ['bbox'], **kwargs)
        self.metrics = metrics
        self.sigmas = None if sigmas is None else [float(s) for s in sigmas]
        if 'keypoints' in metrics and self._coco_api is None and not self.format_only:
            raise ValueError('CocoKeypointMetric: keypoint AP needs the ground truth with '
                             'keypoints: set ann_file (e.g. '
                             "data_root + 'annotations/person_keypoints_val2017.json')")

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """mmdet's processing plus each image's keypoints and their scores."""
        super().process(data_batch, data_samples)
        added = self.results[len(self.results) - len(data_samples):]
        for (_, result), sample in zip(added, data_samples):
            pred = sample['pred_instances']
            if 'keypoints' in pred:
                result['keypoints'] = pred['keypoints'].detach().cpu().numpy()
                result['keypoint_scores'] = pred['keypoint_scores'].detach().cpu().numpy()

    def results2json(self, results: Sequence[dict], outfile_prefix: str) -> dict:
        """mmdet's files, plus ``{outfile_prefix}.keypoints.json`` when there are
        keypoint predictions."""
        result_files = super().results2json(results, outfile_prefix)
        if not any('keypoints' in r for r in results):
            return result_files
        offset = float((self.dataset_meta or {}).get('keypoint_offset', 0.0))
        dets = []
        for res in results:
            if 'keypoints' not in res:
                continue
            for label, score, kpts, kpt_scores in zip(res['labels'], res['scores'],
                                                      res['keypoints'],
                                                      res['keypoint_scores']):
                flat = np.concatenate([kpts - offset, kpt_scores[:, None]], axis=1)
                dets.append(dict(image_id=res['img_id'],
                                 category_id=self.cat_ids[int(label)],
                                 keypoints=[round(float(v), 3) for v in flat.reshape(-1)],
                                 score=float(score)))
        result_files['keypoints'] = f'{outfile_prefix}.keypoints.json'
        dump(dets, result_files['keypoints'])
        return result_files

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """mmdet's bbox / segm metrics, then keypoint AP from the dumped keypoints."""
        if 'keypoints' not in self.metrics:
            return super().compute_metrics(results)
        tmp_dir = None
        prefix = self.outfile_prefix
        if prefix is None:
            tmp_dir = tempfile.TemporaryDirectory()
            prefix = osp.join(tmp_dir.name, 'results')
        saved = self.metrics, self.outfile_prefix
        # The parent evaluates the other metrics and writes every results file (this
        # class's results2json adds the keypoints) at one prefix.
        self.metrics = [m for m in saved[0] if m != 'keypoints']
        self.outfile_prefix = prefix
        try:
            eval_results = super().compute_metrics(results)
            if not self.format_only:
                eval_results.update(self._keypoint_ap(f'{prefix}.keypoints.json'))
        finally:
            self.metrics, self.outfile_prefix = saved
            if tmp_dir is not None:
                tmp_dir.cleanup()
        return eval_results

    def _keypoint_ap(self, dt_file: str) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        dets = load(dt_file) if osp.isfile(dt_file) else []
        if not dets:
            logger.warning('CocoKeypointMetric: no keypoint predictions; keypoint AP is 0')
            return {f'keypoints_{n}': 0.0 for n in _KPT_NAMES}
        sigmas = self.sigmas or (self.dataset_meta or {}).get('sigmas')
        num_kpts = len(dets[0]['keypoints']) // 3
        if sigmas is None or len(sigmas) != num_kpts:
            raise ValueError(f'CocoKeypointMetric: {num_kpts} keypoints predicted but '
                             f'{None if sigmas is None else len(sigmas)} OKS sigmas; set '
                             'sigmas= or the dataset metainfo sigmas')
        coco_dt = self._coco_api.loadRes(dets)
        coco_eval = COCOeval(self._coco_api, coco_dt, 'keypoints')
        coco_eval.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
        coco_eval.params.catIds = self.cat_ids
        coco_eval.params.imgIds = self.img_ids
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
        stats = coco_eval.stats
        return {f'keypoints_{n}': float(f'{stats[i]:.3f}')
                for n, i in zip(_KPT_NAMES, (0, 1, 2, 3, 4, 5))}
