"""The CUDA path: masks on the GPU, AMP (fp16 and bf16) and a lottery run on a GPU.

Skipped where torch sees no GPU (CI has none); run them on a GPU machine with
``pytest tests/test_cuda.py``. What they guard: masks bound to the weights' device (no
host-device copy per step), GradScaler's skipped steps, clipping after unscale, tickets
and snapshots written from GPU runs loading on a CPU-only machine.
"""

import pytest
import torch

from lth_mm import paths
from lth_mm.pruning import MaskSet, global_magnitude, load_ticket

from _toy import masked_toy, synthetic_cfg, train_rounds

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')

DEMO = 'configs/demo/mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py'


def test_global_magnitude_on_cuda_equals_cpu():
    """The same weights give the same masks on either device (ties included)."""
    torch.manual_seed(0)
    weights = {f'w{i}': torch.randn(64, 32, 3, 3).round(decimals=1) for i in range(3)}
    ones = {n: torch.ones_like(t, dtype=torch.bool) for n, t in weights.items()}
    cpu = global_magnitude(weights, ones, 0.2)
    gpu = global_magnitude({n: t.cuda() for n, t in weights.items()},
                           {n: m.cuda() for n, m in ones.items()}, 0.2)
    for n in weights:
        assert gpu[n].is_cuda
        assert torch.equal(gpu[n].cpu(), cpu[n].cpu())


@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_amp_optim_wrapper_keeps_pruned_weights_and_state_zero_on_cuda(dtype):
    """mmengine's AmpOptimWrapper (what ``--amp`` builds) with clipping and momentum."""
    from mmengine.optim import AmpOptimWrapper
    model, masks, enforcer = masked_toy('cuda')
    assert all(masks[n].device.type == 'cuda' for n in masks.names())
    wrapper = AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                                  weight_decay=1e-4),
        dtype=dtype, clip_grad=dict(max_norm=1.0))
    enforcer.attach(wrapper)
    g = torch.Generator().manual_seed(0)
    params = dict(model.named_parameters())
    before = {n: params[n].detach().clone() for n in masks.names()}
    for _ in range(5):
        x = torch.randn(8, 1, 8, 8, generator=g).cuda()
        y = torch.randint(0, 4, (8, ), generator=g).cuda()
        with wrapper.optim_context(model):
            loss = model(x, y, mode='loss')['loss']
        wrapper.update_params(loss)
    for n, m in masks.items():
        assert torch.all(params[n][~m.bool()] == 0)
        assert not torch.equal(params[n].detach(), before[n])  # it trained
        state = wrapper.optimizer.state[params[n]]['momentum_buffer']
        assert torch.all(state[~m.bool()] == 0)

    # An overflowing step is skipped by the GradScaler: weights unchanged, still masked.
    if dtype == 'float16':
        snapshot = {n: params[n].detach().clone() for n in masks.names()}
        x = torch.randn(8, 1, 8, 8, generator=g).cuda()
        with wrapper.optim_context(model):
            loss = model(x, torch.zeros(8, dtype=torch.long).cuda(), mode='loss')['loss']
        wrapper.update_params(loss * float('inf'))
        for n in masks.names():
            assert torch.equal(params[n].detach(), snapshot[n])
    enforcer.close()


def _tiny_demo_cfg(tmp_path, amp):
    synthetic = dict(num_train=8, num_val=4, img_size=96, seed=1, max_shapes=3,
                     background='solid', min_size_frac=0.2)
    cfg = synthetic_cfg(DEMO, tmp_path, synthetic, max_epochs=2)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.lottery = dict(rounds=2, keep_ratio=0.2, rewind_iter=1, controls=['random_ticket'])
    cfg.custom_hooks = [dict(type='EMAHook', momentum=0.01, priority=49)]
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    cfg.randomness = dict(seed=0)  # deterministic=True would refuse some CUDA kernels
    return cfg


@pytest.mark.parametrize('amp', [False, True])
def test_mask_rcnn_lottery_run_on_cuda(tmp_path, amp):
    """Dense, ticket and random ticket of the demo's Mask R-CNN on the GPU (with EMA and,
    optionally, AMP); every file it writes loads on a CPU-only machine."""
    from mmengine.hooks import Hook

    class Device(Hook):  # registered on every round's Runner
        def __init__(self):
            self.cuda = []

        def before_train(self, runner):
            self.cuda.append(next(runner.model.parameters()).is_cuda)

    device = Device()
    _, rows = train_rounds(_tiny_demo_cfg(tmp_path, amp), device)
    assert device.cuda == [True, True, True]
    assert [r['kind'] for r in rows] == ['dense', 'ticket', 'random_ticket']
    for row in rows[1:]:
        assert row['prunable_sparsity'] == pytest.approx(0.8, abs=1e-4)
        assert row['zero_fraction_of_prunable'] >= 0.8 - 1e-4
        assert 'coco/segm_mAP' in row['metrics']

    # Files from a GPU run hold CPU tensors: torch.load without map_location works on
    # a machine with no GPU (checked here by the device of every loaded tensor).
    work = str(tmp_path / 'work')
    for path in (paths.ticket(work, 1), paths.snapshot(work)):
        tensors = list(_tensors(torch.load(path, weights_only=False)))
        assert tensors and all(t.device.type == 'cpu' for t in tensors), path
    ticket = load_ticket(paths.ticket(work, 1))
    ckpt = torch.load(paths.final_checkpoint(work, 2), map_location='cpu',
                      weights_only=False)
    masks = MaskSet.from_state_dict(ckpt['lth_mm']['masks'])
    assert set(ticket.masks.names()) == set(masks.names())
    for key, prefix in (('state_dict', ''), ('ema_state_dict', 'module.')):
        for n, m in masks.items():
            assert torch.all(ckpt[key][prefix + n][~m] == 0)


def _tensors(obj):
    if torch.is_tensor(obj):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)
