# Copyright (c) lth_mm authors. All rights reserved.
"""The run layout of a lottery experiment: every file name in one place (pure Python).

The lottery hook, the loops, the reports and the tools all find a run's files through these
functions, so a name changes here and nowhere else::

    work_dir/
      lottery_summary.json      the experiment file: plan, settings, seed, load_from, rewind
                                point and one row per finished round (lth_mm.report)
      lottery_summary.txt       the rows as a table
      lottery_<timestamp>.log   the experiment's own log (round decisions, the summary)
      lottery_vis/              experiment-level scalars (per-round metrics, sparsity)
      rewind_snapshot.pth       the late-reset checkpoint taken in round 0 (mmengine format)
      early_bird.json           round-0 mask-evolution log (EarlyBirdHook)
      test/                     work_dir of LotteryRunner.test()/val() (tools/test.py)
    seeds_root/seeds_summary.json   mean and spread over seed_<s>/ work_dirs (tools/seeds.py)
      round_{r}/                the work_dir of round r's own mmengine Runner (its logs,
                                config copy, epoch_*.pth, last_checkpoint, best_*.pth)
        ticket.pth              masks + metadata (lth_mm.pruning.ticket)
        start.pth               the round's start checkpoint (rewound weights, masked)
        ticket_compact.lthc     the compact lossless ticket (bitmask + values)
        final.pth               the round's final weights (plain mmengine checkpoint)
        val_loss.json           validation loss per evaluation (ValLossHook)
        results/                COCO-format predictions (results.*.json), per-category AP
                                (coco_eval.json) and meta.json of the round's final
                                evaluation (EvalArtifactsHook)
"""
import os.path as osp
from typing import Callable

SUMMARY_JSON = 'lottery_summary.json'
SUMMARY_TXT = 'lottery_summary.txt'
SNAPSHOT = 'rewind_snapshot.pth'
START_CHECKPOINT = 'start.pth'
EXPERIMENT_VIS_DIR = 'lottery_vis'
TEST_DIR = 'test'
EARLY_BIRD_JSON = 'early_bird.json'
TICKET = 'ticket.pth'
COMPACT_TICKET = 'ticket_compact.lthc'
FINAL_CHECKPOINT = 'final.pth'
VAL_LOSS_JSON = 'val_loss.json'
RESULTS_DIR = 'results'
# Inside RESULTS_DIR (EvalArtifactsHook writes them, lth_mm.analysis reads them):
RESULT_PREFIX = 'results'       # the metrics' outfile_prefix: results.{bbox,segm,keypoints}.json
COCO_EVAL_JSON = 'coco_eval.json'  # COCOeval's per-category precision of the final evaluation
META_JSON = 'meta.json'         # ground-truth file, sigmas, flip pairs, training counts
# In a report's --out: the files that report wrote (so a second report replaces only them).
REPORT_MARKER = '.lth_mm_report.json'
# tools/model_converters/export_ticket.py's output folder (lth_mm.export)
EXPORT_CHECKPOINT = 'model.pth'     # state dict of the (physically smaller) model
EXPORT_CONFIG = 'config.py'         # the config that rebuilds it (ChannelPrunedModel)
EXPORT_COMPACT = 'model.lthc'       # the masked dense weights, compact lossless
ROUND_PREFIX = 'round_'
SEEDS_SUMMARY_JSON = 'seeds_summary.json'
SEED_PREFIX = 'seed_'


def round_dir(work_dir: str, r: int) -> str:
    """``work_dir/round_{r}``.

    Args:
        work_dir: the experiment's work_dir.
        r: round index.

    Returns:
        str: the round's directory.
    """
    return osp.join(work_dir, f'{ROUND_PREFIX}{int(r)}')


def _work_dir_path(name: str, what: str) -> Callable[[str], str]:
    """The path function of an experiment-level file: ``work_dir -> work_dir/name``.

    Args:
        name: the file or directory name (one of the constants above).
        what: what it holds, for the function's docstring.

    Returns:
        callable: ``path(work_dir) -> str``.
    """
    def path(work_dir: str) -> str:
        return osp.join(work_dir, name)

    path.__doc__ = f'Path of {what}.'
    return path


def _round_path(name: str, what: str) -> Callable[[str, int], str]:
    """The path function of a per-round file: ``(work_dir, r) -> work_dir/round_{r}/name``.

    Args:
        name: the file or directory name (one of the constants above).
        what: what it holds, for the function's docstring.

    Returns:
        callable: ``path(work_dir, r) -> str``.
    """
    def path(work_dir: str, r: int) -> str:
        return osp.join(round_dir(work_dir, r), name)

    path.__doc__ = f"Path of round ``r``'s {what}."
    return path


# One path function per file of the layout above (help() shows what the file holds).
summary_json = _work_dir_path(SUMMARY_JSON, 'the per-round summary (JSON)')
summary_txt = _work_dir_path(SUMMARY_TXT, 'the per-round summary (text table)')
snapshot = _work_dir_path(SNAPSHOT, 'the rewind snapshot written in round 0')
early_bird_json = _work_dir_path(EARLY_BIRD_JSON, 'the early-bird log of round 0')
experiment_vis_dir = _work_dir_path(EXPERIMENT_VIS_DIR, 'the experiment-level visualizer dir')
test_dir = _work_dir_path(TEST_DIR, 'the work_dir of LotteryRunner.test()/val()')
ticket = _round_path(TICKET, 'ticket (masks + metadata)')
compact_ticket = _round_path(COMPACT_TICKET, 'compact lossless ticket')
start_checkpoint = _round_path(START_CHECKPOINT, 'start checkpoint (what its Runner loads '
                               'or resumes from)')
final_checkpoint = _round_path(FINAL_CHECKPOINT, 'final weights')
val_loss_json = _round_path(VAL_LOSS_JSON, 'validation-loss log')
results_dir = _round_path(RESULTS_DIR, 'directory of final evaluation artefacts (COCO '
                          'results, per-class AP)')


def experiment_log(work_dir: str, timestamp: str) -> str:
    """Path of the experiment-level log of a run started at ``timestamp``."""
    return osp.join(work_dir, f'lottery_{timestamp}.log')


def experiment_markers(work_dir: str) -> list:
    """Files/dirs whose presence means ``work_dir`` already holds a lottery experiment."""
    return [p for p in (summary_json(work_dir), snapshot(work_dir), round_dir(work_dir, 0))
            if osp.exists(p)]


def seeds_summary(root: str) -> str:
    """Path of the per-seed aggregate written by ``tools/seeds.py aggregate ROOT``."""
    return osp.join(root, SEEDS_SUMMARY_JSON)


def seed_work_dir(root: str, seed: int) -> str:
    """``root/seed_{seed}``: the work_dir of one seed of a multi-seed launch."""
    return osp.join(root, f'{SEED_PREFIX}{int(seed)}')
