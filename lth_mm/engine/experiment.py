# Copyright (c) lth_mm authors. All rights reserved.
"""The experiment file: everything about a lottery experiment that outlives one round.

One file, ``work_dir/lottery_summary.json`` (:func:`lth_mm.paths.summary_json`), written
atomically by rank 0 only (:func:`lth_mm.report.write_summary`), holds:

* ``version``, ``settings`` (the ``lottery`` block) and ``plan`` (one entry per round);
* ``seed``: the random seed every round's Runner gets (drawn once when the config has
  ``randomness.seed=None``, so a resumed round shuffles and seeds its workers as the
  interrupted one did);
* ``load_from``: the user's ``load_from`` at the first start (``--resume`` drops it from
  the config; round 0 must still start from it);
* ``rewind_iter``: the rewind point, resolved once from round 0's dataloader (a resume on
  another world size or batch size keeps the experiment's point);
* ``network_params``; ``rounds``: one summary row per finished round.

Round-level state is mmengine's own: each round's checkpoints in ``round_{r}/``.
"""
import os.path as osp
from typing import List, Optional

from .. import paths
from ..pruning import LotterySettings
from ..report import load_summary, write_summary

EXPERIMENT_VERSION = 3


class ExperimentError(ValueError):
    """A work_dir that cannot hold (or resume) this experiment."""


class Experiment:
    """The experiment file's content, with its reader and writer.

    Args:
        work_dir: the experiment's work_dir.
        settings: the validated ``lottery`` settings.
        data: the file's content (a new experiment: see :meth:`create`).
    """

    def __init__(self, work_dir: str, settings: LotterySettings, data: dict):
        self.work_dir = work_dir
        self.settings = settings
        self.data = data

    # ------------------------------------------------------------------ open
    @classmethod
    def create(cls, work_dir: str, settings: LotterySettings, seed: int,
               load_from: Optional[str]) -> 'Experiment':
        """A new experiment (nothing is written until :meth:`save`).

        Args:
            work_dir: the experiment's work_dir.
            settings: the validated settings.
            seed: the seed every round uses.
            load_from: the user's ``load_from`` (round 0's start), or None.

        Returns:
            Experiment
        """
        return cls(work_dir, settings, dict(
            version=EXPERIMENT_VERSION, plan=settings.plan(), settings=settings.to_dict(),
            seed=int(seed), load_from=load_from, rewind_iter=None, network_params=None,
            rounds=[]))

    @classmethod
    def open(cls, work_dir: str, settings: LotterySettings) -> 'Experiment':
        """Read the experiment of ``work_dir`` for a resume, checking it is this one.

        Args:
            work_dir: the experiment's work_dir.
            settings: the settings of the config being resumed.

        Returns:
            Experiment

        Raises:
            ExperimentError: another format version, or other lottery settings.
        """
        data = load_summary(work_dir)
        if data.get('version') != EXPERIMENT_VERSION:
            raise ExperimentError(
                f'Cannot resume {work_dir}: its experiment file has version '
                f"{data.get('version')}, this lth_mm writes {EXPERIMENT_VERSION}. Resume with "
                'the lth_mm version that started it, or start a new --work-dir.')
        old = data.get('settings', {})
        differing = settings.differences(old)
        if differing:
            new = settings.to_dict()
            raise ExperimentError(
                f'Cannot resume {work_dir}: the lottery settings differ from the '
                "experiment's in " + ', '.join(
                    f'{k} (experiment {old.get(k)!r}, config {new.get(k)!r})'
                    for k in differing) +
                '. Resume with the same lottery settings, or start a new --work-dir.')
        return cls(work_dir, settings, data)

    @staticmethod
    def exists(work_dir: str) -> bool:
        """Whether ``work_dir`` holds an experiment file."""
        return osp.isfile(paths.summary_json(work_dir))

    # ------------------------------------------------------------------ fields
    @property
    def plan(self) -> List[dict]:
        return self.data['plan']

    @property
    def seed(self) -> int:
        return int(self.data['seed'])

    @property
    def load_from(self) -> Optional[str]:
        return self.data.get('load_from')

    @property
    def rewind_iter(self) -> Optional[int]:
        return self.data.get('rewind_iter')

    @property
    def rows(self) -> List[dict]:
        return self.data['rounds']

    def finished(self, r: int) -> bool:
        """Whether round ``r`` has its summary row (its last step)."""
        return any(row['round'] == r for row in self.rows)

    def next_round(self) -> int:
        """The first round without a summary row (``len(plan)`` when all are done)."""
        for r in range(len(self.plan)):
            if not self.finished(r):
                return r
        return len(self.plan)

    def row(self, r: int) -> Optional[dict]:
        """Round ``r``'s summary row, or None."""
        return next((row for row in self.rows if row['round'] == r), None)

    def last_ticket_round(self, before: int) -> Optional[int]:
        """The last round of kind ``ticket`` before round ``before`` (for the controls)."""
        found = [p['round'] for p in self.plan[:before] if p['kind'] == 'ticket']
        return found[-1] if found else None

    # ------------------------------------------------------------------ update
    def set_rewind_iter(self, k: int) -> None:
        self.data['rewind_iter'] = int(k)

    def set_network_params(self, n: int) -> None:
        self.data['network_params'] = int(n)

    def add_row(self, row: dict) -> None:
        """Record a finished round (replacing an earlier row of the same round)."""
        self.data['rounds'] = [r for r in self.rows if r['round'] != row['round']] + [row]
        self.data['rounds'].sort(key=lambda r: r['round'])

    def save(self) -> None:
        """Write the file (and its text table) atomically. Call on rank 0 only."""
        write_summary(self.work_dir, self.data)
