# Copyright (c) lth_mm authors. All rights reserved.
"""Write each ticket round's compact lossless file and record its size (and MACs).

One concern: at the end of every round that trains with masks, store the round's final
weights as ``round_{r}/ticket_compact.lthc`` (bitmask + values, see
:mod:`lth_mm.compact`) next to the dense ``final.pth`` that mmdet's tools read, and add
``compact_bytes``, ``dense_bytes``, ``compact_ratio`` (and, with ``count_macs``,
``dense_macs``/``sparse_macs``/``mac_ratio``) to the round's summary row, which gives the
paper's supplementary Fig. 4 (size and MACs vs sparsity) for any experiment.

The masks are read from the round's ticket file (written by the orchestrator before the round
starts), the weights from the model, in ``after_train`` of the round's Runner; the
orchestrator reads the extras when that Runner has finished.
Rank 0 only; nothing collective happens here.
"""
import os.path as osp
from typing import Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ... import paths
from ...report import add_round_extras
from ..utils import unwrap
from .lottery_round_hook import round_location


@HOOKS.register_module()
class CompactTicketHook(Hook):
    """Compact lossless ticket per round (and its MACs) for the round summary.

    Args:
        zstd_level: zstd level of the byte-shuffled values; None stores them raw.
        fp16: store float16 values (lossy; off by default, tickets are lossless).
        count_macs: also count dense and sparse MACs (mmengine FlopAnalyzer) of the round.
        mac_shape: (H, W) of the MAC count input; default the pose codec's input size or
            800x1344 for detectors.
    """

    def __init__(self, zstd_level: Optional[int] = 3, fp16: bool = False,
                 count_macs: bool = True, mac_shape: Optional[Sequence[int]] = None):
        self.zstd_level = zstd_level
        self.fp16 = fp16
        self.count_macs = count_macs
        self.mac_shape = tuple(mac_shape) if mac_shape else None

    def after_train(self, runner) -> None:
        """Write the compact file of a round with masks; add its sizes to the summary row.

        Args:
            runner: the round's Runner.
        """
        if not is_main_process():
            return
        experiment_dir, lottery_round = round_location(runner)
        from ...compact import CompactError, save_compact
        from ...pruning import TicketError, load_ticket
        ticket_path = paths.ticket(experiment_dir, lottery_round)
        if not osp.isfile(ticket_path):
            return
        try:
            ticket = load_ticket(ticket_path)
        except TicketError as e:
            runner.logger.warning(f'[compact] round {lottery_round}: no compact ticket ({e})')
            return
        if ticket.masks.prunable_sparsity() == 0:  # the dense round: nothing to compress
            return
        model = unwrap(runner.model)
        out = paths.compact_ticket(experiment_dir, lottery_round)
        try:
            stats = save_compact(out, model.state_dict(), ticket.masks.as_bool(),
                                 zstd_level=self.zstd_level, fp16=self.fp16,
                                 meta=dict(round=lottery_round), ticket_meta=ticket.meta)
        except CompactError as e:
            # a reporting file must not end a long training run: say why it is missing
            runner.logger.warning(f'[compact] round {lottery_round}: not written ({e})')
            return
        extras = dict(compact_bytes=stats.compact_bytes, dense_bytes=stats.dense_bytes,
                      compact_ratio=stats.ratio,
                      compact_entropy_ratio=stats.entropy_bytes / max(stats.dense_bytes, 1))
        if self.count_macs:
            extras.update(self._macs(runner, model, ticket.masks.as_bool()))
        add_round_extras(runner.message_hub, **extras)
        runner.logger.info(
            f'[compact] round {lottery_round}: {out} is {100 * stats.ratio:.1f}% of the dense '
            f'state dict ({stats.compact_bytes:,} of {stats.dense_bytes:,} bytes)' +
            (f'; MACs {100 * extras["mac_ratio"]:.1f}% of dense' if 'mac_ratio' in extras
             else ''))

    def _macs(self, runner, model, masks) -> dict:
        from ...complexity import analyze
        shape = self.mac_shape
        if shape is None:
            codec = runner.cfg.get('codec') if hasattr(runner, 'cfg') else None
            shape = ((int(codec['input_size'][1]), int(codec['input_size'][0]))
                     if isinstance(codec, dict) and 'input_size' in codec else (800, 1344))
        training = model.training
        try:
            c = analyze(model, masks, shape)
        except Exception as e:  # tracing custom models can fail; the sizes still count
            runner.logger.warning(f'[compact] MACs not counted ({type(e).__name__}: {e}); '
                                  'set count_macs=False to skip.')
            return {}
        finally:
            model.train(training)
        d = c.as_dict()
        return dict(dense_macs=d['dense_macs'], sparse_macs=d['sparse_macs'],
                    mac_ratio=d['mac_ratio'], mac_shape=d['shape'])
