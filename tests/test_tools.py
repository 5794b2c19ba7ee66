"""Offline tools: tools/prune.py, tools/analysis/ticket_info.py, print_summary.py (through
the package functions they call)."""
import json
import os.path as osp

import pytest
import torch

from _toy import LTHToyNet
from lth_mm.apis import prune_checkpoint
from lth_mm.analysis.ticket_info import format_ticket_info, ticket_info
from lth_mm.pruning import TicketError, load_ticket, select_prunable
from lth_mm.report import format_summary_table, load_summary

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def toy_ckpt(tmp_path):
    torch.manual_seed(0)
    model = LTHToyNet()
    ckpt = tmp_path / 'trained.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    cfg = tmp_path / 'toy.py'
    cfg.write_text("model = dict(type='LTHToyNet')\ndefault_scope = 'mmengine'\n"
                   "lottery = dict(scope='paper')\n")
    return str(cfg), str(ckpt), model


def test_prune_tool_writes_a_one_shot_ticket(tmp_path, toy_ckpt, capsys):
    cfg, ckpt, model = toy_ckpt
    out = str(tmp_path / 'ticket.pth')
    assert prune_checkpoint(cfg, ckpt, keep_ratio=0.25, out=out) == 0
    ticket = load_ticket(out)
    names = select_prunable(model)
    assert ticket.masks.names() == names
    params = dict(model.named_parameters())
    n = sum(params[k].numel() for k in names)
    assert ticket.masks.kept() == round(0.25 * n)
    # the mask keeps the largest magnitudes of the checkpoint's weights
    kept = torch.cat([params[k].detach().abs()[ticket.masks[k].bool()] for k in names])
    pruned = torch.cat([params[k].detach().abs()[~ticket.masks[k].bool()] for k in names])
    assert kept.min() >= pruned.max()
    assert ticket.meta['kind'] == 'one_shot' and ticket.meta['network_params'] == sum(
        p.numel() for p in model.parameters())
    assert 'network sparsity' in capsys.readouterr().out


def test_prune_tool_refuses_bad_input_without_touching_files(tmp_path, toy_ckpt):
    cfg, ckpt, _ = toy_ckpt
    out = tmp_path / 'ticket.pth'
    out.write_bytes(b'keep me')
    with pytest.raises(SystemExit, match='exists'):
        prune_checkpoint(cfg, ckpt, keep_ratio=0.2, out=str(out))
    assert out.read_bytes() == b'keep me'
    with pytest.raises(SystemExit, match=r'must be in \(0, 1\]'):
        prune_checkpoint(cfg, ckpt, keep_ratio=0, out=str(tmp_path / 'x.pth'))
    with pytest.raises(SystemExit, match='does not exist'):
        prune_checkpoint(cfg, str(tmp_path / 'none.pth'), keep_ratio=0.2,
                         out=str(tmp_path / 'y.pth'))
    assert not (tmp_path / 'x.pth').exists() and not (tmp_path / 'y.pth').exists()


def test_ticket_info_reports_groups_layers_and_network_sparsity(tmp_path, toy_ckpt):
    cfg, ckpt, model = toy_ckpt
    out = str(tmp_path / 'ticket.pth')
    prune_checkpoint(cfg, ckpt, keep_ratio=0.5, out=out)
    info = json.loads(json.dumps(ticket_info(out), default=str))  # as --json prints it
    total = sum(p.numel() for p in model.parameters())
    assert info['network_sparsity'] == pytest.approx(
        (info['prunable_params'] - info['kept']) / total)
    assert set(info['layers']) == set(select_prunable(model))
    assert sum(g['numel'] for g in info['groups'].values()) == info['prunable_params']
    text = format_ticket_info(ticket_info(out), out)
    assert 'per module group' in text and 'backbone.conv1.weight' in text
    (tmp_path / 'bad.pth').write_bytes(b'\x00')
    with pytest.raises(TicketError, match='truncated or corrupt'):
        ticket_info(str(tmp_path / 'bad.pth'))


def test_print_summary(tmp_path):
    rows = [dict(round=0, kind='dense', keep_ratio=1.0, prunable_sparsity=0.0,
                 network_sparsity=0.0, metrics={'coco/bbox_mAP': 0.5, 'coco/bbox_mAP_50': 0.7}),
            dict(round=1, kind='ticket', keep_ratio=0.2, prunable_sparsity=0.8,
                 network_sparsity=0.784, metrics={'coco/bbox_mAP': 0.49})]
    (tmp_path / 'lottery_summary.json').write_text(json.dumps(dict(rounds=rows)))
    out = format_summary_table(load_summary(str(tmp_path))['rounds'])
    assert out == format_summary_table(rows)
    assert '78.40%' in out and '0.4900' in out and 'coco/bbox_mAP_50' not in out
    with pytest.raises(FileNotFoundError, match='not found'):
        load_summary(str(tmp_path / 'nothing'))
