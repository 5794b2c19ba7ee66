"""A tiny mmengine model, dataset and metric to exercise the lottery engine in seconds.

Parameter names follow mmdet's layout (``backbone.*``, ``head.fc_cls`` as the final
predictor) so the ``paper`` scope applies unchanged.
"""
import copy
import json
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, RUNNERS
from torch.utils.data import Dataset

import lth_mm  # noqa: F401  (registers the lottery components)


@MODELS.register_module(force=True)
class LTHToyNet(BaseModel):
    """conv-bn-conv-fc-fc classifier on 1x8x8 inputs."""

    def __init__(self, frozen_stem: bool = False):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.backbone.bn1 = nn.BatchNorm2d(8)
        self.backbone.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.head = nn.Module()
        self.head.fc1 = nn.Linear(16 * 16, 32)
        self.head.fc_cls = nn.Linear(32, 4)
        if frozen_stem:
            self.backbone.conv1.weight.requires_grad_(False)

    def forward(self, inputs, labels=None, mode='tensor'):
        x = F.relu(self.backbone.bn1(self.backbone.conv1(inputs)))
        x = F.max_pool2d(F.relu(self.backbone.conv2(x)), 2)
        logits = self.head.fc_cls(F.relu(self.head.fc1(x.flatten(1))))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        if mode == 'predict':
            return [dict(pred=int(p), label=int(t)) for p, t in zip(logits.argmax(1), labels)]
        return logits


@DATASETS.register_module(force=True)
class LTHToyDataset(Dataset):
    """Four classes, each a fixed 8x8 pattern plus noise (learnable in a few steps)."""

    def __init__(self, n: int = 32, seed: int = 0):
        g = torch.Generator().manual_seed(1234)
        patterns = torch.randn(4, 1, 8, 8, generator=g)
        g = torch.Generator().manual_seed(seed)
        self.labels = torch.randint(0, 4, (n, ), generator=g)
        self.inputs = patterns[self.labels] + 0.5 * torch.randn(n, 1, 8, 8, generator=g)
        self.metainfo = dict(classes=('a', 'b', 'c', 'd'))

    def __len__(self):
        return len(self.labels)

    def full_init(self):
        """Nothing to load lazily (mmengine's dataset wrappers call it)."""

    def __getitem__(self, i):
        return dict(inputs=self.inputs[i], labels=self.labels[i])


@METRICS.register_module(force=True)
class LTHToyAccuracy(BaseMetric):
    default_prefix = 'toy'

    def process(self, data_batch, data_samples):
        self.results.extend(int(s['pred'] == s['label']) for s in data_samples)

    def compute_metrics(self, results):
        return dict(accuracy=sum(results) / max(len(results), 1))


@HOOKS.register_module(force=True)
class LTHZeroCheckHook(Hook):
    """Test hook: after every step, pruned weights (and EMA copies) must be exactly zero."""
    priority = 'LOWEST'

    def __init__(self):
        self.checked = 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        masks = mask_hook(runner).masks
        if masks is None:
            return
        model = getattr(runner.model, 'module', runner.model)  # DDP-wrapped or not
        models = [model] + [h.ema_model.module for h in runner.hooks
                            if hasattr(h, 'ema_model')]
        for model in models:
            params = dict(model.named_parameters())
            for name, mask in masks.items():
                pruned = params[name].detach()[mask == 0]
                assert torch.all(pruned == 0), f'{name}: {int((pruned != 0).sum())} revived'
        self.checked += 1


class KillAt(Exception):
    """Raised by :class:`LTHKillHook` to simulate a crash."""


@HOOKS.register_module(force=True)
class LTHKillHook(Hook):
    """Test hook: crash after the checkpoint of (round, epoch) has been written."""
    priority = 'LOWEST'

    def __init__(self, round: int, epoch: int):
        self.round, self.epoch = round, epoch

    def _lottery_round(self, runner):
        return current_round(runner)

    def before_train_epoch(self, runner):
        # epoch=0: crash as the round starts (after pruning, before any checkpoint of it)
        if self.epoch == 0 and self._lottery_round(runner) == self.round:
            raise KillAt(f'killed at the start of round {self.round}')

    def after_train_epoch(self, runner):
        if self._lottery_round(runner) == self.round and runner.epoch + 1 == self.epoch:
            raise KillAt(f'killed in round {self.round} after epoch {self.epoch}')


def toy_cfg(work_dir, lottery=None, **overrides) -> Config:
    """A complete Runner config for the toy task.

    Without yapf formatting (``format_python_code=False``, kept by every copy the rounds
    make): mmengine formats the whole config when a Runner logs it, dumps it and saves a
    checkpoint, which took half of a short run's time; the text stays valid Python.
    """
    loader = dict(batch_size=8, num_workers=0, collate_fn=dict(type='default_collate'))
    cfg = dict(
        model=dict(type='LTHToyNet'),
        work_dir=str(work_dir),
        train_dataloader=dict(dataset=dict(type='LTHToyDataset', n=32),
                              sampler=dict(type='DefaultSampler', shuffle=True), **loader),
        val_dataloader=dict(dataset=dict(type='LTHToyDataset', n=16, seed=1),
                            sampler=dict(type='DefaultSampler', shuffle=False), **loader),
        val_evaluator=dict(type='LTHToyAccuracy'),
        val_cfg=dict(),
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-3)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.5, by_epoch=False, begin=0, end=3),
            dict(type='MultiStepLR', milestones=[2], by_epoch=True)
        ],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1, save_best='toy/accuracy',
                            rule='greater'),
            logger=dict(type='LoggerHook', interval=100)),
        custom_hooks=[dict(type='LTHZeroCheckHook')],
        randomness=dict(seed=0, deterministic=True),
        runner_type='LotteryRunner',
        lottery={**dict(rounds=2, keep_ratio=0.3, rewind_iter=2), **(lottery or {})},
        default_scope='mmengine',
        log_level='WARNING',
    )
    cfg.update(overrides)
    return Config(copy.deepcopy(cfg), format_python_code=False)


def unformatted(cfg: Config) -> Config:
    """``cfg`` whose text is not yapf-formatted (see :func:`toy_cfg`); needed for a config
    from a file: mmengine 0.10.7's ``Config.fromfile`` drops ``format_python_code``."""
    return Config(cfg.to_dict(), cfg_text=cfg.text, filename=cfg.filename,
                  format_python_code=False)


def build_runner(cfg: Config):
    """Build the Runner as tools/train.py does (``RUNNERS.build`` honours runner_type)."""
    return RUNNERS.build(cfg)


def train_rounds(cfg: Config, *hooks):
    """Build the Runner of ``cfg``, register ``hooks`` and train.

    Args:
        cfg (Config): a lottery config (``runner_type='LotteryRunner'``).
        *hooks (Hook): instances registered on the LotteryRunner, i.e. on every round's
            Runner (one instance spans the rounds).

    Returns:
        tuple: the runner and the rows of its experiment file (one a round).
    """
    runner = build_runner(cfg)
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    return runner, experiment(cfg.work_dir)['rounds']


def synthetic_cfg(config, tmp_path, synthetic, *, max_epochs=None, lottery=None,
                  data_root=None) -> Config:
    """A config of configs/ on a tiny synthetic data set, for a short run of its rounds.

    The train and val loaders generate (or find) ``synthetic`` under ``data_root``; the
    test loader and evaluator are the val ones; the run writes to ``tmp_path/work``.

    Args:
        config (str): the config's path, absolute or relative to the repository.
        tmp_path (Path): the test's folder.
        synthetic (dict): parameters of the synthetic data set (replace the config's).
        max_epochs (int, optional): train that many epochs at a constant learning rate,
            validated once at the end.
        lottery (dict, optional): updates to the config's ``lottery``.
        data_root (str, optional): where the data are; default ``tmp_path/data``.

    Returns:
        Config: ready for :func:`train_rounds`.
    """
    repo = Path(__file__).resolve().parent.parent
    cfg = unformatted(Config.fromfile(str(repo / config)))  # an absolute one stays as it is
    root = str(data_root or Path(tmp_path) / 'data').rstrip('/') + '/'  # as configs write it
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = root
        loader.dataset.synthetic = dict(synthetic)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.ann_file = root + 'annotations/instances_val.json'
    cfg.test_evaluator = cfg.val_evaluator
    if max_epochs:
        cfg.train_cfg.update(max_epochs=max_epochs, val_interval=max_epochs)
        cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.lottery.update(lottery or {})
    cfg.work_dir = str(Path(tmp_path) / 'work')
    return cfg


def magnitude_masks(model, keep_ratio: float, scope: str = 'paper'):
    """Global-magnitude masks keeping ``keep_ratio`` of ``model``'s prunable weights.

    Returns:
        MaskSet: boolean masks by parameter name (not applied to the model).
    """
    from lth_mm.pruning import MaskSet, global_magnitude, select_prunable
    params = dict(model.named_parameters())
    weights = {n: params[n].detach() for n in select_prunable(model, scope=scope)}
    ones = {n: torch.ones_like(t, dtype=torch.bool) for n, t in weights.items()}
    return MaskSet(global_magnitude(weights, ones, keep_ratio))


def masked_toy(device='cpu', keep_ratio: float = 0.25, seed: int = 0):
    """A seeded LTHToyNet on ``device`` pruned by magnitude, its masks enforced.

    Returns:
        tuple: the model, its MaskSet and the MaskEnforcer holding them (masks applied).
    """
    from lth_mm.engine.optim import MaskEnforcer
    torch.manual_seed(seed)
    model = LTHToyNet().to(device)
    masks = magnitude_masks(model, keep_ratio)
    enforcer = MaskEnforcer(model)
    enforcer.set_masks(masks)
    enforcer.apply()
    return model, masks, enforcer


def mask_hook(runner):
    """The TicketMaskHook of a round's Runner."""
    return [h for h in runner.hooks if type(h).__name__ == 'TicketMaskHook'][0]


def current_round(runner) -> int:
    """The lottery round a round's Runner trains."""
    from lth_mm.engine import round_info
    return round_info(runner)['round']


def ticket_masks(work_dir, r):
    """Round r's masks (boolean) as written in its ticket file."""
    from lth_mm.pruning import load_ticket
    return load_ticket(str(Path(work_dir) / f'round_{r}' / 'ticket.pth')).masks


def experiment(work_dir) -> dict:
    """The experiment file (lottery_summary.json)."""
    return json.loads((Path(work_dir) / 'lottery_summary.json').read_text())
