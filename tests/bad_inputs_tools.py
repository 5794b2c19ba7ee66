"""Bad input at the tools' entry points: the rows of tests/test_bad_input.py.

Each row calls the ``lth_mm.apis`` (or ``lth_mm.analysis`` / ``lth_mm.export``) function the
tool's ``main`` calls, with the tool's arguments, on tiny files that :func:`files` writes
into ``tmp_path``: a toy config, its checkpoint, a truncated copy, a ticket, a compact file,
a checkpoint of another model. A row's ``entry`` is the tool, as the "Common errors" page
(docs/common_errors.md) names it.
"""
import os
import os.path as osp

import pytest
import torch

from _bad_input import BadInput
from _toy import LTHToyNet, toy_cfg

TOY_CONFIG = "model = dict(type='LTHToyNet')\ndefault_scope = 'mmengine'\n"


def files(tmp) -> None:
    """The inputs the rows misuse, under ``tmp``; a fresh output goes to ``tmp/fresh``."""
    from mmengine.logging import HistoryBuffer

    from lth_mm.compact import save_compact
    from lth_mm.pruning import MaskSet, save_ticket
    torch.manual_seed(0)
    model = LTHToyNet()
    state = model.state_dict()
    (tmp / 'toy.py').write_text(TOY_CONFIG)
    toy_cfg(str(tmp / 'fresh' / 'work_dir')).dump(str(tmp / 'run.py'))
    masks = MaskSet({n: state[n].abs() > 0.1 for n in
                     ('backbone.conv1.weight', 'backbone.conv2.weight', 'head.fc1.weight')})
    state = {k: v * masks[k] if k in masks else v for k, v in state.items()}  # as trained
    # as mmengine saves them: a message hub with HistoryBuffers (no plain-tensor pickle)
    hub = dict(log_scalars=dict(loss=HistoryBuffer([1.0, 0.5], [1, 1])))
    torch.save(dict(meta=dict(iter=0), state_dict=state, message_hub=hub), tmp / 'ckpt.pth')
    torch.save(dict(meta=dict(iter=0), state_dict=state, message_hub=hub, lth_mm=dict(
        masks=masks.state_dict())), tmp / 'masked.pth')
    data = (tmp / 'ckpt.pth').read_bytes()
    (tmp / 'trunc.pth').write_bytes(data[:len(data) // 2])
    save_ticket(str(tmp / 'ticket.pth'), masks, {})
    save_compact(str(tmp / 'model.lthc'), state, masks.as_bool())
    data = (tmp / 'model.lthc').read_bytes()
    (tmp / 'trunc.lthc').write_bytes(data[:len(data) // 2])
    other = dict(state, **{'head.fc1.weight': torch.zeros(7, 256),
                           'head.fc1.bias': torch.zeros(7)})
    torch.save(dict(meta={}, state_dict=other), tmp / 'other.pth')
    save_compact(str(tmp / 'other.lthc'), other)
    save_ticket(str(tmp / 'other_ticket.pth'), MaskSet({'head.fc1.weight': torch.ones(
        7, 256, dtype=torch.bool)}), {})
    save_ticket(str(tmp / 'partial_ticket.pth'), MaskSet({'backbone.conv1.weight': torch.ones(
        8, 1, 3, 3, dtype=torch.bool)}), {})
    (tmp / 'taken.pth').write_bytes(b'the user\'s file')
    (tmp / 'taken.pkl').write_bytes(b'the user\'s results')
    (tmp / 'a_dir').mkdir()
    (tmp / 'a_dir' / 'keep.txt').write_text('the user\'s file')


def _p(tmp, name):
    return str(tmp / name)


def _prune(tmp, config='toy.py', ckpt='ckpt.pth', out='fresh/t.pth', **kw):
    from lth_mm.apis import prune_checkpoint
    return prune_checkpoint(_p(tmp, config), _p(tmp, ckpt), kw.pop('keep_ratio', 0.2),
                            _p(tmp, out), **kw)


def _compress(tmp, ckpt='ckpt.pth', out='fresh/c.lthc', ticket=None, **kw):
    from lth_mm.apis import compress_checkpoint
    return compress_checkpoint(_p(tmp, ckpt), _p(tmp, out),
                               _p(tmp, ticket) if ticket else None, **kw)


def _decompress(tmp, compact='model.lthc', out='fresh/c.pth', config=None):
    from lth_mm.apis import decompress_checkpoint
    return decompress_checkpoint(_p(tmp, compact), _p(tmp, out),
                                 _p(tmp, config) if config else None)


def _transfer(tmp, source='ticket.pth', mode='task', out='fresh/t.pth', **kw):
    from lth_mm.apis import transfer_ticket
    return transfer_ticket(_p(tmp, source), _p(tmp, 'toy.py'), mode, _p(tmp, out), **kw)


def _test(tmp, ckpt='ckpt.pth', config='run.py', **kw):
    from lth_mm.apis import run_test
    return run_test(_p(tmp, config), _p(tmp, ckpt), **kw)


def _train(tmp, config='run.py', **kw):
    from lth_mm.apis import run_train
    return run_train(_p(tmp, config), **kw)


def _ticket_info(tmp, name):
    from lth_mm.analysis.ticket_info import ticket_info
    return ticket_info(_p(tmp, name))


def _export(tmp, ckpt='masked.pth', out='fresh/export', ticket=None):
    from lth_mm.export import export_ticket
    return export_ticket(_p(tmp, 'toy.py'), _p(tmp, ckpt), _p(tmp, out),
                         ticket=_p(tmp, ticket) if ticket else None)


def _complexity(tmp, ckpt):
    from lth_mm.analysis.model_complexity import config_complexity
    return config_complexity(_p(tmp, 'toy.py'), None, _p(tmp, ckpt), (1, 1, 8, 8))


def _report(tmp, work_dir, out):
    from lth_mm.analysis.report import build_report
    return build_report([_p(tmp, work_dir)], _p(tmp, out))


def _experiment(tmp) -> None:
    """``files`` plus a lottery experiment in ``tmp/exp`` (as a first start writes it)."""
    from lth_mm.engine.experiment import Experiment
    from lth_mm.pruning import LotterySettings
    files(tmp)
    cfg = toy_cfg(str(tmp / 'exp'))
    Experiment.create(str(tmp / 'exp'), LotterySettings.from_dict(cfg.lottery), 0,
                      None).save()


def _read_only(tmp) -> None:
    files(tmp)
    if os.geteuid() == 0:
        pytest.skip('root writes into read-only directories')
    os.chmod(tmp / 'a_dir', 0o555)


FIX_CKPT = 'copy the file again, or use another checkpoint'
FIX_OUT = 'choose another --out (or --force where the tool has it)'
ROWS = [
    # ---------------------------------------------------------------- tools/prune.py
    BadInput('prune-truncated-checkpoint', 'tools/prune.py',
             lambda t: _prune(t, ckpt='trunc.pth'), 'truncated or corrupt', FIX_CKPT, files),
    BadInput('prune-missing-checkpoint', 'tools/prune.py',
             lambda t: _prune(t, ckpt='none.pth'), 'does not exist', 'check the path', files),
    BadInput('prune-missing-config', 'tools/prune.py',
             lambda t: _prune(t, config='none.py'), 'does not exist', 'check the path',
             files),
    BadInput('prune-checkpoint-is-directory', 'tools/prune.py',
             lambda t: _prune(t, ckpt='a_dir'), 'is a directory',
             'give the checkpoint file, not its directory', files),
    BadInput('prune-ticket-as-checkpoint', 'tools/prune.py',
             lambda t: _prune(t, ckpt='ticket.pth'), 'is an lth_mm ticket, not a checkpoint',
             'give the trained checkpoint (round_R/final.pth)', files),
    BadInput('prune-compact-as-checkpoint', 'tools/prune.py',
             lambda t: _prune(t, ckpt='model.lthc'), 'compact lth_mm file',
             'decompress it first (tools/compress.py --decompress)', files),
    BadInput('prune-checkpoint-of-another-model', 'tools/prune.py',
             lambda t: _prune(t, ckpt='other.pth'), 'does not fit the model',
             'use a checkpoint of the same config', files),
    BadInput('prune-out-exists', 'tools/prune.py',
             lambda t: _prune(t, out='taken.pth'), 'exists (nothing was overwritten)',
             FIX_OUT, files),
    BadInput('prune-out-is-the-checkpoint', 'tools/prune.py',
             lambda t: _prune(t, out='ckpt.pth', force=True), 'is one of the inputs',
             'choose another --out', files),
    BadInput('prune-keep-ratio-zero', 'tools/prune.py',
             lambda t: _prune(t, keep_ratio=0.0), 'must be in (0, 1]',
             '--keep-ratio 0.2 keeps 20%', files),
    BadInput('prune-out-in-read-only-dir', 'tools/prune.py',
             lambda t: _prune(t, out='a_dir/t.pth'), 'read-only',
             'choose a writable --out', _read_only),
    # ---------------------------------------------------------------- tools/compress.py
    BadInput('compress-truncated-checkpoint', 'tools/compress.py',
             lambda t: _compress(t, ckpt='trunc.pth'), 'truncated or corrupt', FIX_CKPT,
             files),
    BadInput('compress-ticket-as-checkpoint', 'tools/compress.py',
             lambda t: _compress(t, ckpt='ticket.pth'), 'lth_mm ticket, not a checkpoint',
             'compress the trained checkpoint, give the ticket as --ticket', files),
    BadInput('compress-checkpoint-as-ticket', 'tools/compress.py',
             lambda t: _compress(t, ticket='ckpt.pth'), 'is an mmengine checkpoint',
             'give round_R/ticket.pth as --ticket', files),
    BadInput('compress-out-exists', 'tools/compress.py',
             lambda t: _compress(t, out='taken.pth'), 'exists', FIX_OUT, files),
    BadInput('decompress-checkpoint-as-compact', 'tools/compress.py --decompress',
             lambda t: _decompress(t, compact='ckpt.pth'), 'not a compact lth_mm file',
             'give the .lthc file', files),
    BadInput('decompress-truncated-compact', 'tools/compress.py --decompress',
             lambda t: _decompress(t, compact='trunc.lthc'), 'truncated',
             'write the compact file again', files),
    BadInput('decompress-for-another-model', 'tools/compress.py --decompress',
             lambda t: _decompress(t, compact='other.lthc', config='toy.py'),
             'head.fc1', 'give the config the file was made with', files),
    BadInput('decompress-out-exists', 'tools/compress.py --decompress',
             lambda t: _decompress(t, out='taken.pth'), 'exists', FIX_OUT, files),
    # ---------------------------------------------------------------- tools/test.py
    BadInput('test-truncated-checkpoint', 'tools/test.py',
             lambda t: _test(t, ckpt='trunc.pth'), 'truncated or corrupt', FIX_CKPT, files),
    BadInput('test-missing-checkpoint', 'tools/test.py',
             lambda t: _test(t, ckpt='none.pth'), 'does not exist', 'check the path', files),
    BadInput('test-ticket-as-checkpoint', 'tools/test.py',
             lambda t: _test(t, ckpt='ticket.pth'), 'lth_mm ticket, not a checkpoint',
             'test the trained checkpoint (round_R/final.pth)', files),
    BadInput('test-missing-config', 'tools/test.py',
             lambda t: _test(t, config='none.py'), 'does not exist', 'check the path', files),
    BadInput('test-out-exists', 'tools/test.py',
             lambda t: _test(t, out=_p(t, 'taken.pkl')), 'exists',
             'choose another --out', files),
    BadInput('test-out-not-pickle', 'tools/test.py',
             lambda t: _test(t, out=_p(t, 'fresh/r.json')), '.pkl',
             'name a .pkl file', files),
    # ---------------------------------------------------------------- tools/train.py
    BadInput('train-truncated-load-from', 'tools/train.py (load_from)',
             lambda t: _train(t, cfg_options=[f"load_from={_p(t, 'trunc.pth')}"]),
             'load_from (the checkpoint to load)', FIX_CKPT, files),
    BadInput('train-missing-load-from', 'tools/train.py (load_from)',
             lambda t: _train(t, cfg_options=[f"load_from={_p(t, 'none.pth')}"]),
             'does not exist', 'check the path', files),
    BadInput('train-work-dir-is-a-file', 'tools/train.py',
             lambda t: _train(t, work_dir=_p(t, 'taken.pth')), 'is a file',
             'choose another --work-dir', files),
    BadInput('train-read-only-work-dir', 'tools/train.py',
             lambda t: _train(t, work_dir=_p(t, 'a_dir/wd')), 'not writable',
             'choose a writable --work-dir', _read_only),
    BadInput('train-work-dir-holds-an-experiment', 'tools/train.py',
             lambda t: _train(t, work_dir=_p(t, 'exp')), 'already holds a lottery experiment',
             'pass --resume, or choose another --work-dir', _experiment),
    BadInput('train-resume-with-a-path', 'tools/train.py --resume',
             lambda t: _train(t, resume=_p(t, 'ckpt.pth')), 'resumes from its work_dir',
             'pass --resume without a path', files),
    BadInput('train-resume-other-settings', 'tools/train.py --resume',
             lambda t: _train(t, work_dir=_p(t, 'exp'), resume='auto',
                              cfg_options=['lottery.keep_ratio=0.5']),
             'settings differ', 'resume with the same lottery settings, or a new --work-dir',
             _experiment),
    # ---------------------------------------------------------------- tools/transfer.py
    BadInput('transfer-task-partial-coverage', 'tools/transfer.py',
             lambda t: _transfer(t, source='partial_ticket.pth'), 'covers only',
             'a ticket of a model with the same modules, or --allow-partial', files),
    BadInput('transfer-task-nothing-shared', 'tools/transfer.py',
             lambda t: _transfer(t, source='other_ticket.pth'), 'share no prunable tensor',
             'give a ticket of a model with common modules', files),
    BadInput('transfer-missing-source', 'tools/transfer.py',
             lambda t: _transfer(t, source='none.pth'), 'does not exist', 'check the path',
             files),
    BadInput('transfer-truncated-source', 'tools/transfer.py',
             lambda t: _transfer(t, source='trunc.pth'), 'truncated or corrupt', FIX_CKPT,
             files),
    BadInput('transfer-compact-source', 'tools/transfer.py',
             lambda t: _transfer(t, source='model.lthc'), 'it is a compact lth_mm file',
             'decompress it first (tools/compress.py --decompress)', files),
    BadInput('transfer-out-exists', 'tools/transfer.py',
             lambda t: _transfer(t, out='taken.pth'), 'exists', FIX_OUT, files),
    BadInput('transfer-mask-without-keep-ratio', 'tools/transfer.py',
             lambda t: _transfer(t, source='ckpt.pth', mode='mask'), 'give keep_ratio',
             "--keep-ratio with --mode mask", files),
    # ---------------------------------------------------------------- analysis tools
    BadInput('ticket-info-on-a-checkpoint', 'tools/analysis/ticket_info.py',
             lambda t: _ticket_info(t, 'masked.pth'), 'an mmengine checkpoint with lth_mm masks',
             'give round_R/ticket.pth; the message names the tool that reads the file', files),
    BadInput('ticket-info-on-a-compact-file', 'tools/analysis/ticket_info.py',
             lambda t: _ticket_info(t, 'model.lthc'), 'a compact lth_mm file',
             'give the ticket, not the .lthc file', files),
    BadInput('ticket-info-on-a-truncated-ticket', 'tools/analysis/ticket_info.py',
             lambda t: _ticket_info(t, 'trunc.pth'), 'truncated or corrupt',
             'copy the ticket again', files),
    BadInput('complexity-truncated-checkpoint', 'tools/analysis/complexity.py',
             lambda t: _complexity(t, 'trunc.pth'), 'truncated or corrupt', FIX_CKPT, files),
    BadInput('complexity-checkpoint-of-another-model', 'tools/analysis/complexity.py',
             lambda t: _complexity(t, 'other.pth'), 'does not fit the model',
             'use a checkpoint of the same config', files),
    BadInput('report-out-holds-files', 'tools/analysis/report.py',
             lambda t: _report(t, 'exp', 'a_dir'), 'a_dir', 'choose a new --out directory',
             _experiment),
    BadInput('report-work-dir-without-summary', 'tools/analysis/report.py',
             lambda t: _report(t, 'a_dir', 'fresh/report'), 'a_dir',
             'give work_dirs of lottery runs with a finished round', files),
    # --------------------------------------------------- tools/model_converters/export_ticket.py
    BadInput('export-out-dir-not-empty', 'tools/model_converters/export_ticket.py',
             lambda t: _export(t, out='a_dir'), 'not empty', 'give a new directory', files),
    BadInput('export-truncated-checkpoint', 'tools/model_converters/export_ticket.py',
             lambda t: _export(t, ckpt='trunc.pth'), 'truncated or corrupt', FIX_CKPT, files),
    BadInput('export-ticket-as-checkpoint', 'tools/model_converters/export_ticket.py',
             lambda t: _export(t, ckpt='ticket.pth'), 'lth_mm ticket, not a checkpoint',
             'give the trained checkpoint, the ticket as --ticket', files),
    BadInput('export-checkpoint-as-ticket', 'tools/model_converters/export_ticket.py',
             lambda t: _export(t, ticket='ckpt.pth'), 'is an mmengine checkpoint',
             'give round_R/ticket.pth as --ticket', files),
    BadInput('export-checkpoint-without-masks', 'tools/model_converters/export_ticket.py',
             lambda t: _export(t, ckpt='ckpt.pth'), 'records no ticket masks',
             'pass --ticket', files),
    BadInput('export-ticket-of-another-model', 'tools/model_converters/export_ticket.py',
             lambda t: _export(t, ticket='other_ticket.pth'), 'does not fit the model',
             "use the ticket of this config's run", files),
]
