"""tools/prune.py's collapse report, lamp and --min-density; tools/analysis/scope_info.py."""
import json
import os.path as osp

import pytest
import torch

from _toy import LTHToyNet
from lth_mm.analysis.scope_info import config_scope_table
from lth_mm.apis import prune_checkpoint
from lth_mm.pruning import floor_count, load_ticket
from lth_mm.pruning.scope_table import format_scope_table

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def small_conv2(tmp_path):
    """A toy checkpoint whose backbone.conv2 has weights 1000x smaller than the rest."""
    torch.manual_seed(0)
    model = LTHToyNet()
    with torch.no_grad():
        model.backbone.conv2.weight.mul_(1e-3)
    ckpt = tmp_path / 'trained.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    cfg = tmp_path / 'toy.py'
    cfg.write_text("model = dict(type='LTHToyNet')\ndefault_scope = 'mmengine'\n")
    return str(cfg), str(ckpt)


def test_prune_tool_names_a_collapsed_tensor(tmp_path, small_conv2, capsys):
    cfg, ckpt = small_conv2
    assert prune_checkpoint(cfg, ckpt, keep_ratio=0.25, out=str(tmp_path / 'g.pth')) == 0
    out = capsys.readouterr().out
    assert 'collapse: 1 prunable tensor below 1% density: backbone.conv2.weight 0.00% ' \
           'of 1,152' in out
    assert 'final predictors (by names' in out  # a toy model: the name rules, said so

    assert prune_checkpoint(cfg, ckpt, keep_ratio=0.25, criterion='lamp',
                            out=str(tmp_path / 'l.pth')) == 0
    assert 'collapse: no prunable tensor below 1% density' in capsys.readouterr().out
    assert load_ticket(str(tmp_path / 'l.pth')).meta['criterion'] == 'lamp'

    assert prune_checkpoint(cfg, ckpt, keep_ratio=0.25, min_density=0.05,
                            out=str(tmp_path / 'f.pth')) == 0
    ticket = load_ticket(str(tmp_path / 'f.pth'))
    assert ticket.meta['min_density'] == 0.05
    assert int(ticket.masks['backbone.conv2.weight'].sum()) == floor_count(0.05, 1152) == 58
    with pytest.raises(SystemExit, match='above the final keep ratio'):
        prune_checkpoint(cfg, ckpt, keep_ratio=0.25, min_density=0.3, out=str(tmp_path / 'x.pth'))
    with pytest.raises(SystemExit, match='unknown criterion'):
        prune_checkpoint(cfg, ckpt, keep_ratio=0.25, criterion='l1', out=str(tmp_path / 'x.pth'))
    assert not (tmp_path / 'x.pth').exists()


def test_scope_info_table_of_a_config():
    pytest.importorskip('mmpretrain')
    cfg = osp.join(REPO, 'configs/imagenet/resnet18_lth-keep20-rw1ep_8xb32_in1k.py')
    table = json.loads(json.dumps(config_scope_table(cfg, 'paper')))  # as --json prints it
    rows = {r['name']: r for r in table['rows']}
    assert table['predictors']['method'] == 'graph'
    assert rows['head.fc.weight']['predictor'] and not rows['head.fc.weight']['pruned']
    assert rows['head.fc.weight']['reason'] == 'predictor'
    assert rows['backbone.layer2.0.downsample.0.weight']['reason'] == 'shortcut'
    assert rows['backbone.conv1.weight']['kind'] == 'conv' and rows['backbone.conv1.weight'][
        'pruned']
    assert 0.9 < table['prunable_fraction'] < 1.0
    text = format_scope_table(config_scope_table(cfg, 'backbone'))
    assert 'head.fc.weight' in text and 'final predictor' in text
    assert text.splitlines()[0].split() == ['name', 'kind', 'shape', 'numel', 'pruned', 'why',
                                            'dense']
    assert any(line.startswith('scope: final predictors found by graph')
               for line in text.splitlines())
    # --cfg-options reach the lottery block: the 'all' scope prunes the predictor too
    rows = {r['name']: r for r in config_scope_table(
        cfg, cfg_options=['lottery.prune_scope=all'])['rows']}
    assert rows['head.fc.weight']['pruned']
