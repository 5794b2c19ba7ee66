"""Engine III on tiny versions of real recipes: every round starts as round 0 started.

The engine that emulated rounds inside one Runner leaked what a recipe's own hooks change
(YOLOX's mode switch, RTMDet's mosaic caches, YOLOX-Pose's replaced dataloader) into later
rounds, and crashed with MultiSourceSampler; each round is now its own Runner. Round 0 is
a plain run of the recipe, so these tests also check what the recipe's hooks do within a
run (tests/test_recipes.py trains the other recipes without the lottery).
"""
import pytest

from lth_mm.engine import round_info
from _toy import train_rounds
from recipes import RecipeProbeHook, recipe_cfg

LOTTERY = dict(rounds=2, keep_ratio=0.5, rewind_iter=1)


class RoundProbe(RecipeProbeHook):
    """RecipeProbeHook that also records the lottery round (one instance spans rounds)."""

    def _record(self, runner):
        super()._record(runner)
        self.records[-1]['round'] = round_info(runner)['round']


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp('recipe_data')


def _lottery(name, tmp_path, data_root, probe, rounds=2, **overrides):
    cfg = recipe_cfg(name, tmp_path / 'work', data_root, **overrides)
    cfg.runner_type = 'LotteryRunner'
    cfg.lottery = dict(LOTTERY, controls=['random_ticket'] if rounds == 3 else [])
    # MACs at 800x1344 per ticket round cost more than these tiny runs
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='CompactTicketHook',
                                                      count_macs=False)]
    hook = RoundProbe(**probe)
    runner, _ = train_rounds(cfg, hook)
    by_round = {}
    for row in hook.records:
        by_round.setdefault(row.pop('round'), []).append(row)
    assert sorted(by_round) == list(range(rounds))
    return runner, by_round, hook


def test_yolox_mode_switch_starts_every_round_as_round_0(tmp_path, data_root):
    _, rounds, _ = _lottery('yolox', tmp_path, data_root, dict(paths=dict(
        use_l1='model.bbox_head.use_l1', skip='train_dataloader.dataset._skip_type_keys')))
    seen = {r: [(x['use_l1'], x['skip']) for x in rows] for r, rows in rounds.items()}
    switched = (True, ['Mosaic', 'RandomAffine', 'MixUp'])
    assert seen[0] == [(False, None), switched, switched]  # the recipe's own switch
    assert seen[1] == seen[0]  # switched at the same epoch, and off again at the start


def test_rtmdet_cached_mixing_starts_every_round_empty(tmp_path, data_root):
    pipe = 'train_dataloader.dataset.pipeline'
    _, rounds, _ = _lottery('rtmdet', tmp_path, data_root, dict(paths=dict(
        transforms=pipe + '.transforms', cache=pipe + '.transforms.2.results_cache')))
    for r, rows in rounds.items():
        # PipelineSwitchHook: stage 1 (cached mixing) for epochs 0-1, stage 2 for epoch 2
        assert [('CachedMosaic' in x['transforms'], 'CachedMixUp' in x['transforms'])
                for x in rows] == [(True, True), (True, True), (False, False)], r
        # the mosaic cache starts every round empty and fills during it
        assert len(rows[0]['cache']) == 0 < len(rows[1]['cache']), r


def test_yoloxpose_replaced_dataloader_is_the_recipes_own_in_every_round(tmp_path, data_root):
    pytest.importorskip('albumentations', reason='mmpose pipelines need albumentations<2')
    _, rounds, _ = _lottery('yoloxpose', tmp_path, data_root, dict(paths=dict(
        aux='model.head.use_aux_loss', loader='train_loop.dataloader')))
    for r, rows in rounds.items():
        # YOLOXPoseModeSwitchHook: a new dataloader and the auxiliary loss from epoch 1 on
        assert [x['aux'] for x in rows] == [False, True, True], r
        assert rows[0]['loader'] != rows[1]['loader'] == rows[2]['loader'], r


def test_multisource_sampler_trains_three_rounds(tmp_path, data_root):
    runner, rounds, hook = _lottery('multisource', tmp_path, data_root,
                                    dict(paths={}, every='iter', batch_paths=True), rounds=3)
    assert len(runner.experiment.rows) == 3
    assert len(hook.batches) == sum(len(rows) for rows in rounds.values())
    for paths in hook.batches:  # every round samples the recipe's source ratio [1, 2]
        assert ['/shapes64_b/' in p for p in paths] == [False, True, True], paths
