"""tools/seeds.py: per-seed launch commands that tools/train.py accepts (local, dist,
Slurm) and the mean / spread aggregation of the runs' lottery summaries."""
import json
import os.path as osp
import subprocess
import sys

import pytest

import lth_mm.apis.seeds as seeds
from lth_mm import paths
from lth_mm.apis import parse_cfg_options
from lth_mm.report import write_summary

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/pascal_voc/faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'


def _tool(*args):
    """tools/seeds.py as the user runs it."""
    return subprocess.run([sys.executable, osp.join(REPO, 'tools', 'seeds.py'), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def _option(argv, name):
    """The values after ``name`` in a tools/train.py argv, up to the next option."""
    i = argv.index(name) + 1
    j = next((k for k in range(i, len(argv)) if argv[k].startswith('--')), len(argv))
    return argv[i:j]


def test_commands_are_train_arguments_with_the_seed():
    extra = ['--cfg-options', 'lottery.keep_ratio=0.5', '--amp']
    for launcher in seeds.LAUNCHERS:
        cmds = seeds.seed_commands(CONFIG, [3, 7], 'wd', launcher, gpus=8,
                                   partition='p', extra=extra, python='py')
        assert len(cmds) == 2
        for s, cmd in zip((3, 7), cmds):
            if launcher == 'dist':
                assert cmd[:4] == ['bash', 'tools/dist_train.sh', CONFIG, '8']
                argv = [cmd[2], *cmd[4:]]
            else:
                i = cmd.index('tools/train.py')
                argv = cmd[i + 1:]
            assert argv[0] == CONFIG and '--amp' in argv
            assert _option(argv, '--work-dir') == [osp.join('wd', f'seed_{s}')]
            # Both seeds and the user's option survive (one --cfg-options).
            assert argv.count('--cfg-options') == 1
            assert parse_cfg_options(_option(argv, '--cfg-options')) == {
                'randomness.seed': s, 'lottery.seed': s, 'lottery.keep_ratio': 0.5}
            if launcher == 'slurm':
                assert cmd[:3] == ['srun', '-p', 'p']
                assert _option(argv, '--launcher') == ['slurm']
    with pytest.raises(ValueError, match='partition'):
        seeds.seed_commands(CONFIG, [0], 'wd', 'slurm')
    with pytest.raises(ValueError, match='distinct'):
        seeds.seed_commands(CONFIG, [1, 1], 'wd')


def test_tool_help_names_the_package_facts():
    """tools/seeds.py spells the launchers and the summary name itself (a light --help)."""
    proc = _tool('launch', '--help')
    assert proc.returncode == 0, proc.stderr
    assert '{' + ','.join(seeds.LAUNCHERS) + '}' in proc.stdout
    proc = _tool('--help')
    assert proc.returncode == 0 and paths.SEEDS_SUMMARY_JSON in proc.stdout


def _row(r, kind, ap, ns):
    return dict(round=r, kind=kind, keep_ratio=1.0 if r == 0 else 0.2,
                prunable_sparsity=0.0 if r == 0 else 0.8, network_sparsity=ns,
                zero_fraction_of_prunable=0.0, metrics={'pascal_voc/mAP': ap, 'note': 'x'},
                best_checkpoint=None, final_checkpoint=None, extras={})


def test_aggregate_writes_mean_and_spread(tmp_path):
    aps = {0: (0.70, 0.68), 1: (0.72, 0.66), 2: (0.71, 0.67)}
    for s, (dense, ticket) in aps.items():
        write_summary(str(tmp_path / f'seed_{s}'), dict(rounds=[
            _row(0, 'dense', dense, 0.0), _row(1, 'ticket', ticket, 0.7883)]))
    (tmp_path / 'seed_9').mkdir()  # an unfinished run is skipped
    table = seeds.aggregate_seed_runs(str(tmp_path))
    out = json.loads((tmp_path / paths.SEEDS_SUMMARY_JSON).read_text())
    assert out['seeds'] == [0, 1, 2]
    dense, ticket = out['rounds']
    assert (dense['kind'], ticket['kind']) == ('dense', 'ticket')
    m = ticket['values']['pascal_voc/mAP']
    assert m['mean'] == pytest.approx(0.67) and m['std'] == pytest.approx(0.01)
    assert (m['min'], m['max'], m['n']) == (0.66, 0.68, 3)
    assert m['per_seed'] == {'0': 0.68, '1': 0.66, '2': 0.67}
    assert 'note' not in ticket['values']  # not a number
    assert ticket['values']['network_sparsity']['std'] == 0.0
    # printed in percent, as every other table; sample std
    assert '67.00% ± 1.00' in table
    with pytest.raises(FileNotFoundError, match='seeds.py launch'):
        seeds.aggregate_seed_runs(str(tmp_path / 'nothing'))


def test_aggregate_never_averages_coco_minus_one(tmp_path):
    for s, ap_small in ((0, 0.5), (1, -1.0)):  # seed 1: no small objects to evaluate
        row = _row(1, 'ticket', 0.6, 0.79)
        row['metrics']['coco/bbox_mAP_s'] = ap_small
        write_summary(str(tmp_path / f'seed_{s}'), dict(rounds=[row]))
    agg = seeds.aggregate_summaries({s: json.loads(
        (tmp_path / f'seed_{s}' / 'lottery_summary.json').read_text()) for s in (0, 1)})
    v = agg['rounds'][0]['values']['coco/bbox_mAP_s']
    assert (v['mean'], v['n'], list(v['per_seed'])) == (0.5, 1, [0])


def test_run_skips_finished_seeds_and_goes_on_after_a_failure(tmp_path):
    root = str(tmp_path)
    plan = [dict(round=0), dict(round=1)]
    write_summary(osp.join(root, 'seed_0'), dict(plan=plan, rounds=[
        _row(0, 'dense', 0.7, 0.0), _row(1, 'ticket', 0.7, 0.79)]))
    write_summary(osp.join(root, 'seed_1'), dict(plan=plan, rounds=[
        _row(0, 'dense', 0.7, 0.0)]))  # interrupted after round 0: run again
    assert seeds.seed_finished(osp.join(root, 'seed_0'))
    assert not seeds.seed_finished(osp.join(root, 'seed_1'))
    assert not seeds.seed_finished(osp.join(root, 'seed_2'))

    def cmd(seed, rc):  # leaves a trace, then exits with rc
        code = f"open(r'{tmp_path}/ran_{seed}', 'w'); raise SystemExit({rc})"
        return [sys.executable, '-c', code]
    failed = seeds.run_seeds([cmd(0, 0), cmd(1, 3), cmd(2, 0)], [0, 1, 2], root)
    assert failed == [1]
    assert not (tmp_path / 'ran_0').exists()  # finished: skipped
    assert (tmp_path / 'ran_1').exists() and (tmp_path / 'ran_2').exists()  # went on
