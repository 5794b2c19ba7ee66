"""Rows of the bad-input table (tests/_bad_input.py) for the ``lottery`` block.

Each row does in-process what a user would do: build the lottery runner from a config
(what ``tools/train.py`` does before training), run ``lth_mm.apis.run_train`` on a config
file with ``--cfg-options`` tokens, or read the block with ``LotterySettings.from_dict``.
Every refusal must come before training and before anything is written; the work_dir of
the runs that could write is ``tmp_path/fresh/w``.
"""
import os.path as osp

from _bad_input import BadInput

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(REPO, 'configs', 'demo', 'mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py')


def _settings(**lottery):
    """What the runner does first with the config's ``lottery`` dict."""
    def run(tmp_path):
        from lth_mm.pruning import LotterySettings
        LotterySettings.from_dict(lottery)
    return run


def _toy_runner(lottery=None, **overrides):
    """Build the lottery runner of the toy config (as tools/train.py does), then train."""
    def run(tmp_path):
        from _toy import build_runner, toy_cfg
        build_runner(toy_cfg(tmp_path / 'fresh' / 'w', lottery, **overrides)).train()
    return run


def _write_toy_config(tmp_path, lottery=None):
    """The toy config as a file ``toy.py`` (and a leaf ``leaf.py`` inheriting it)."""
    from _toy import toy_cfg
    toy_cfg(tmp_path / 'unused', lottery).dump(str(tmp_path / 'toy.py'))
    (tmp_path / 'leaf.py').write_text("_base_ = ['./toy.py']\nlottery = dict(rewind_iter=3)\n")


def _train(config, *cfg_options):
    """``tools/train.py CONFIG --work-dir tmp_path/fresh/w --cfg-options ...``."""
    def run(tmp_path):
        import _toy  # noqa: F401  (registers the toy model and data set)
        from lth_mm.apis import run_train
        path = config if osp.isabs(config) else str(tmp_path / config)
        run_train(path, cfg_options=list(cfg_options) or None,
                  work_dir=str(tmp_path / 'fresh' / 'w'))
    return run


ROWS = [
    # ---- 1. a misspelt block name next to `lottery`
    BadInput('lottery-block-misspelt-in-config', 'lottery', _toy_runner(lotery=dict(
        keep_ratio=0.5)), "'lotery', not `lottery`",
        'rename the block to lottery=dict(...)'),
    BadInput('lottery-block-misspelt-on-cli', 'tools/train.py --cfg-options',
             _train('toy.py', 'lotery.keep_ratio=0.5'), 'a misspelt `lottery` block',
             'spell it lottery: --cfg-options lottery.keep_ratio=0.5', setup=_write_toy_config),
    BadInput('lottery-block-not-a-dict', 'tools/train.py --cfg-options',
             _train('toy.py', 'lottery=0.5'), '`lottery` must be a dict',
             'set its keys: --cfg-options lottery.keep_ratio=0.5', setup=_write_toy_config),
    # ---- 2. types: every key named with its expected type
    BadInput('keep-ratio-not-a-number-on-cli', 'lottery.keep_ratio',
             _train('toy.py', 'lottery.keep_ratio=abc'),
             "lottery.keep_ratio must be a number (e.g. 0.2), got 'abc'",
             'a number in (0, 1], e.g. lottery.keep_ratio=0.2', setup=_write_toy_config),
    BadInput('rounds-not-an-integer', 'lottery.rounds', _settings(rounds=2.5),
             'lottery.rounds must be an integer', 'an integer >= 1, e.g. lottery.rounds=2'),
    BadInput('rewind-epochs-not-a-number', 'lottery.rewind_epochs',
             _settings(rewind_epochs='one'), 'lottery.rewind_epochs must be None or a number',
             'a number of epochs, e.g. 1'),
    BadInput('controls-not-strings', 'lottery.controls', _settings(controls=[1]),
             'lottery.controls must be a list of strings', "e.g. ['random_ticket']"),
    BadInput('seed-not-an-integer', 'lottery.seed', _settings(seed='x'),
             'lottery.seed must be an integer', 'an integer'),
    BadInput('sparsities-not-a-list', 'lottery.sparsities',
             _settings(schedule='list', rounds=2, sparsities=0.8),
             'lottery.sparsities must be None or a list of numbers', 'a list, e.g. [0.8]'),
    # ---- 3. rewind_iter and rewind_epochs, one of them from a base
    BadInput('rewind-iter-over-a-base-rewind-epochs', 'lottery.rewind_iter',
             _train('leaf.py'), 'a base config may set the other',
             'set rewind_epochs=None next to rewind_iter (on the command line the typed key wins)',
             setup=lambda tmp_path: _write_toy_config(
                 tmp_path, dict(rewind_iter=None, rewind_epochs=1))),
    # ---- 4. the rewind point beyond a round, refused before anything is written
    BadInput('rewind-epochs-beyond-the-demo-schedule', 'lottery.rewind_epochs',
             _train(DEMO, 'lottery.rewind_epochs=50'),
             'beyond the length of a round (train_cfg.max_epochs=7',
             'rewind inside a round (the paper: about one epoch)'),
    BadInput('rewind-epochs-beyond-an-epoch-schedule', 'lottery.rewind_epochs',
             _toy_runner(dict(rewind_iter=None, rewind_epochs=3)),
             'beyond the length of a round', 'rewind inside a round'),
    BadInput('rewind-iter-beyond-an-iteration-schedule', 'lottery.rewind_iter',
             _toy_runner(dict(rewind_iter=10), train_cfg=dict(by_epoch=False, max_iters=10,
                                                               val_interval=10)),
             'lottery.rewind_iter=10) is beyond the length of a round',
             'rewind inside a round'),
    BadInput('rewind-epochs-beyond-a-repeated-dataset', 'lottery.rewind_epochs',
             _toy_runner(dict(rewind_iter=None, rewind_epochs=6), train_dataloader=dict(
                 dataset=dict(type='RepeatDataset', times=2,
                              dataset=dict(type='LTHToyDataset', n=32)),
                 sampler=dict(type='DefaultSampler', shuffle=True), batch_size=8,
                 num_workers=0, collate_fn=dict(type='default_collate'))),
             '6 passes over the training images', 'rewind inside a round'),
    # ---- 5. a given ticket trains once; repeats are seeds
    BadInput('given-ticket-with-typed-rounds', 'tools/train.py --cfg-options',
             _train('toy.py', 'lottery.ticket=t.pth', 'lottery.rewind_from=c.pth',
                    'lottery.rounds=3'),
             'repeats of one ticket are seeds',
             'drop lottery.rounds: repeats of a ticket are seeds (tools/seeds.py)',
             setup=_write_toy_config),
    BadInput('given-ticket-with-a-base-rewind-point', 'lottery.ticket',
             _settings(ticket='t.pth', rewind_epochs=1),
             'there is no round 0 to rewind to',
             'rewind_epochs=None and rewind_iter=None, or rewind_from=CHECKPOINT'),
    # ---- other keys and combinations
    BadInput('unknown-key-on-cli', 'tools/train.py --cfg-options',
             _train('toy.py', 'lottery.keep_ration=0.5'), "did you mean 'keep_ratio'",
             'spell the key as the message suggests', setup=_write_toy_config),
    BadInput('renamed-key-scope', 'lottery.scope', _settings(scope='paper'),
             "'scope' is now 'prune_scope'", 'lottery.prune_scope'),
    BadInput('keep-ratio-out-of-range', 'lottery.keep_ratio', _settings(keep_ratio=1.5),
             'keep_ratio must be in (0, 1]', 'a fraction in (0, 1]'),
    BadInput('rewind-iter-negative', 'lottery.rewind_iter', _settings(rewind_iter=-1),
             'lottery.rewind_iter must be an integer >= 0', 'an iteration >= 0'),
    BadInput('ticket-and-transfer', 'lottery.transfer',
             _settings(ticket='t.pth', transfer=dict(mode='imagenet', source='s.pth')),
             'lottery.ticket and lottery.transfer are exclusive', 'give one of them'),
    BadInput('controls-with-lr-rewinding', 'lottery.controls',
             _settings(controls=['random_ticket'], rewind_mode='lr'),
             "they need rewind_mode 'restart' or 'continue'", "rewind_mode='restart'"),
    BadInput('min-density-above-keep-ratio', 'lottery.min_density',
             _settings(min_density=0.5, keep_ratio=0.2), 'above the final keep ratio',
             'a floor below keep_ratio'),
    BadInput('unknown-rewind-mode-on-cli', 'tools/train.py --cfg-options',
             _train('toy.py', 'lottery.rewind_mode=rewind'),
             'lottery.rewind_mode must be one of', "'restart', 'continue' or 'lr'",
             setup=_write_toy_config),
]
