"""tools/seeds.py: per-seed launch commands that tools/train.py accepts (local, dist,
Slurm) and the mean / spread aggregation of the runs' lottery summaries."""
import importlib.util
import json
import os.path as osp

import pytest

from lth_mm.report import write_summary

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/pascal_voc/faster-rcnn_r18-c4_lth-keep20-rw600it_12e_voc07.py'


def _load(name, rel):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


seeds = _load('seeds_tool', 'tools/seeds.py')
train = _load('train_tool', 'tools/train.py')


def test_commands_parse_as_train_arguments_with_the_seed():
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
            args = train.parse_args(argv)
            assert args.config == CONFIG and args.amp
            assert args.work_dir == osp.join('wd', f'seed_{s}')
            # Both seeds and the user's option survive (one --cfg-options).
            assert args.cfg_options == {'randomness.seed': s, 'lottery.seed': s,
                                        'lottery.keep_ratio': 0.5}
            if launcher == 'slurm':
                assert cmd[:3] == ['srun', '-p', 'p'] and args.launcher == 'slurm'
    with pytest.raises(ValueError, match='partition'):
        seeds.seed_commands(CONFIG, [0], 'wd', 'slurm')
    with pytest.raises(ValueError, match='distinct'):
        seeds.seed_commands(CONFIG, [1, 1], 'wd')


def _row(r, kind, ap, ns):
    return dict(round=r, kind=kind, keep_ratio=1.0 if r == 0 else 0.2,
                prunable_sparsity=0.0 if r == 0 else 0.8, network_sparsity=ns,
                zero_fraction_of_prunable=0.0, metrics={'pascal_voc/mAP': ap, 'note': 'x'},
                best_checkpoint=None, final_checkpoint=None, extras={})


def test_aggregate_writes_mean_and_spread(tmp_path, capsys):
    aps = {0: (0.70, 0.68), 1: (0.72, 0.66), 2: (0.71, 0.67)}
    for s, (dense, ticket) in aps.items():
        write_summary(str(tmp_path / f'seed_{s}'), dict(rounds=[
            _row(0, 'dense', dense, 0.0), _row(1, 'ticket', ticket, 0.7883)]))
    (tmp_path / 'seed_9').mkdir()  # an unfinished run is skipped
    assert seeds.main(['aggregate', str(tmp_path)]) == 0
    out = json.loads((tmp_path / seeds.SEEDS_SUMMARY).read_text())
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
    assert '67.00% ± 1.00' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        seeds.main(['aggregate', str(tmp_path / 'nothing')])


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
    import sys
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
