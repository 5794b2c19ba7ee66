"""lth_mm.benchmark on the toy model (the figures' plumbing, not their values), and the
tools/analysis and tools/benchmark scripts as argparse shells (``--help`` imports neither
lth_mm nor torch)."""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest

from _toy import toy_cfg
from lth_mm.benchmark import (compact_size, enforcement, lamp_speed, miniature_report,
                              resume_cost, suite)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def toy_config(tmp_path):
    """The toy Runner config as a file (the benchmarks take config paths)."""
    path = str(tmp_path / 'toy.py')
    toy_cfg(tmp_path / 'work').dump(path)
    return path


def test_tools_answer_help_without_importing_the_stack():
    tools = sorted(glob.glob(osp.join(REPO, 'tools', 'analysis', '*.py')) +
                   glob.glob(osp.join(REPO, 'tools', 'benchmark', '*.py')))
    code = (
        'import contextlib, io, json, runpy, sys\n'
        'out = {}\n'
        'for path in sys.argv[1:]:\n'
        '    sys.argv = [path, "--help"]\n'
        '    with contextlib.redirect_stdout(io.StringIO()) as text:\n'
        '        try:\n'
        '            runpy.run_path(path, run_name="__main__")\n'
        '        except SystemExit as e:\n'
        '            code = e.code\n'
        '    out[path] = [code, "usage:" in text.getvalue()]\n'
        'heavy = sorted(m for m in ("lth_mm", "torch", "mmengine") if m in sys.modules)\n'
        'print(json.dumps(dict(tools=out, heavy=heavy)))\n')
    proc = subprocess.run([sys.executable, '-c', code, *tools], capture_output=True,
                          text=True, timeout=120)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(result['tools']) == len(tools) >= 13
    assert all(v == [0, True] for v in result['tools'].values()), result['tools']
    assert result['heavy'] == []


def test_compact_size_and_resume_cost_on_the_toy_model(toy_config):
    r = compact_size.measure(toy_config, keep=0.2)
    assert r['raw']['round_trip'] and r['zstd']['round_trip'] and r['strict_load']
    assert r['kept'] == round(0.2 * r['prunable'])
    assert r['zstd']['ratio'] < r['raw']['ratio'] < 1.0
    assert r['entropy_ratio'] < r['zstd']['ratio']
    assert 'fp16_zstd' in compact_size.format_result(r)
    s = resume_cost.measure(toy_config, repeats=1)
    assert s['ticket_bytes'] < s['checkpoint_bytes']
    assert s['masks_s']['min'] > 0 and s['ratio'] > 0


def test_lamp_speed_and_suite_table_on_the_toy_model(toy_config):
    s = lamp_speed.speed(toy_config, repeats=1)
    assert s['params'] == 8 * 9 + 16 * 8 * 9 + 256 * 32 and s['ratio'] > 0
    collapse = lamp_speed.collapse(toy_config)
    assert set(collapse) == set(lamp_speed.CRITERIA)
    text = suite.table(dict(masks=dict(
        ours_s=dict(min=0.1, median=0.2), torch_s=dict(min=2.0, median=3.0),
        speedup=dict(min=20.0, median=15.0), identical=True,
        memory=dict(weight_bytes=2 ** 20, ratio=1.1)), macs=dict(error='boom')))
    assert '15.0x faster' in text and 'macs: FAILED' in text


def test_enforcement_overhead_on_the_toy_model(toy_config):
    r = enforcement.measure(toy_config, steps=2, warmup=0, batches=1, device='cpu')
    assert r['masked_weights'] == 8 * 9 + 16 * 8 * 9 + 256 * 32
    assert r['input_shape'] == [1, 8, 8] and r['batch_size'] == 8
    assert all(r[v]['min'] > 0 for v in enforcement.VARIANTS)
    m, lo, hi = r['fused_ratio']
    assert 0 < lo <= hi and m > 0
    assert 'fused kernels alone' in enforcement.format_result(r)


@pytest.mark.parametrize('ticket,dense,verdict', [(0.50, 0.50, 'agrees'), (0.60, 0.40,
                                                                          'agrees'),
                                                  (0.40, 0.60, 'disagrees')])
def test_miniature_claims_compare_the_rows(ticket, dense, verdict):
    table = [dict(label='ticket keep 20, late reset', values={'coco/bbox_mAP': [ticket] * 2}),
             dict(label='dense', values={'coco/bbox_mAP': [dense] * 2})]
    (claim, got, text), = miniature_report.claims(table)
    assert claim.startswith('Tickets at 80% sparsity match the dense model')
    assert got == verdict and f'{ticket:.3f}' in text


def test_structured_accuracy_groups_rows_by_kind_and_seed(tmp_path):
    """Every round kind gets its own row (controls never average into the ticket), a
    seed's dense round counts once, and latency rows are found by name or sparsity."""
    import json

    from lth_mm.benchmark.structured_accuracy import collect, table

    def summary(d, seed, criterion, rows):
        (tmp_path / d).mkdir()
        (tmp_path / d / 'lottery_summary.json').write_text(json.dumps(dict(
            seed=seed, settings=dict(criterion=criterion), rounds=[
                dict(kind=k, planned_keep_ratio=p, network_sparsity=s,
                     metrics={'coco/bbox_mAP': m, 'coco/segm_mAP': m}) for k, p, s, m in rows])))
        return str(tmp_path / d)

    crit = dict(type='channel_magnitude', coupled=True)
    dirs = [summary('a', 0, crit, [('dense', None, 0.0, 0.70), ('ticket', 0.5, 0.51, 0.60),
                                   ('random_ticket', 0.5, 0.51, 0.40)]),
            summary('b', 1, crit, [('dense', None, 0.0, 0.68), ('ticket', 0.5, 0.51, 0.58),
                                   ('random_reinit', 0.5, 0.51, 0.30)]),
            summary('c', 0, 'channel_refill', [('dense', None, 0.0, 0.70),
                                               ('given_ticket', None, 0.51, 0.55)])]
    v = collect(dirs)
    assert v['dense']['values']['coco/bbox_mAP'] == [0.70, 0.68]  # seed 0's dense once
    assert v['channels keep 0.5 (magnitude)']['values']['coco/bbox_mAP'] == [0.60, 0.58]
    assert v['channels keep 0.5 (random)']['values']['coco/bbox_mAP'] == [0.40]
    assert v['channels keep 0.5 (random reinit)']['values']['coco/bbox_mAP'] == [0.30]
    assert v['channels 51.0% sparse (refill, given)']['values']['coco/bbox_mAP'] == [0.55]
    speed = dict(rows=[dict(name='dense', sparsity=0.0, median=1.0),
                       dict(name='channels keep 0.5', sparsity=0.51, median=0.5)])
    text = table(v, speed)
    assert '| channels keep 0.5 (magnitude) | 51.0% | 2 | 0.590 (0.580-0.600)' in text
    assert 'worse (-0.100)' in text  # 0.59 vs 0.69: beyond 0.01 and both seed ranges
    assert text.count('| 0.500 |') == 4  # ticket, both controls and the given ticket
