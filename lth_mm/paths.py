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


def summary_json(work_dir: str) -> str:
    """Path of the per-round summary (JSON)."""
    return osp.join(work_dir, SUMMARY_JSON)


def summary_txt(work_dir: str) -> str:
    """Path of the per-round summary (text table)."""
    return osp.join(work_dir, SUMMARY_TXT)


def snapshot(work_dir: str) -> str:
    """Path of the rewind snapshot written in round 0."""
    return osp.join(work_dir, SNAPSHOT)


def early_bird_json(work_dir: str) -> str:
    """Path of the early-bird log of round 0."""
    return osp.join(work_dir, EARLY_BIRD_JSON)


def ticket(work_dir: str, r: int) -> str:
    """Path of round ``r``'s ticket (masks + metadata)."""
    return osp.join(round_dir(work_dir, r), TICKET)


def compact_ticket(work_dir: str, r: int) -> str:
    """Path of round ``r``'s compact lossless ticket."""
    return osp.join(round_dir(work_dir, r), COMPACT_TICKET)


def start_checkpoint(work_dir: str, r: int) -> str:
    """Path of round ``r``'s start checkpoint (what its Runner loads or resumes from)."""
    return osp.join(round_dir(work_dir, r), START_CHECKPOINT)


def experiment_log(work_dir: str, timestamp: str) -> str:
    """Path of the experiment-level log of a run started at ``timestamp``."""
    return osp.join(work_dir, f'lottery_{timestamp}.log')


def experiment_vis_dir(work_dir: str) -> str:
    """Directory of the experiment-level visualizer backends."""
    return osp.join(work_dir, EXPERIMENT_VIS_DIR)


def test_dir(work_dir: str) -> str:
    """work_dir of the Runner that ``LotteryRunner.test()``/``val()`` builds."""
    return osp.join(work_dir, TEST_DIR)


def final_checkpoint(work_dir: str, r: int) -> str:
    """Path of round ``r``'s final weights."""
    return osp.join(round_dir(work_dir, r), FINAL_CHECKPOINT)


def val_loss_json(work_dir: str, r: int) -> str:
    """Path of round ``r``'s validation-loss log."""
    return osp.join(round_dir(work_dir, r), VAL_LOSS_JSON)


def results_dir(work_dir: str, r: int) -> str:
    """Directory of round ``r``'s final evaluation artefacts (COCO results, per-class AP)."""
    return osp.join(round_dir(work_dir, r), RESULTS_DIR)


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
