"""The mask enforcer on its own: gradients, optimizer steps, AMP scaler (skipped steps)."""
import pytest
import torch

from lth_mm.engine.optim import MaskEnforcer
from lth_mm.pruning import MaskSet, global_magnitude, select_prunable

from _toy import LTHToyNet, masked_toy


def _batch():
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 1, 8, 8, generator=g), torch.randint(0, 4, (8, ), generator=g)


def _pruned_values(model, masks):
    params = dict(model.named_parameters())
    return torch.cat([params[n].detach()[m == 0] for n, m in masks.items()])


@pytest.mark.parametrize('opt_type', [torch.optim.SGD, torch.optim.Adam])
def test_gradients_of_pruned_weights_are_zero_when_the_optimizer_steps(opt_type):
    model, masks, enforcer = masked_toy()
    seen = {}
    opt = opt_type(model.parameters(), lr=0.0)
    enforcer.attach(opt)
    # registered after the enforcer's pre-hook, so it sees what the update will use
    opt.register_step_pre_hook(lambda o, a, k: seen.update(
        {n: p.grad.clone() for n, p in model.named_parameters()}))
    x, y = _batch()
    model(x, y, mode='loss')['loss'].backward()
    params = dict(model.named_parameters())
    assert any(torch.any(params[n].grad[m == 0] != 0) for n, m in masks.items())  # raw
    opt.step()
    for n, m in masks.items():
        assert torch.all(seen[n][m == 0] == 0)
        assert seen[n][m == 1].abs().sum() > 0
    enforcer.detach()


def test_step_hook_zeroes_what_the_optimizer_adds():
    model, masks, enforcer = masked_toy()
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.1)
    enforcer.attach(opt)
    # Stale optimizer state at pruned positions (as after a mask change) would make Adam
    # move pruned weights even with zero gradients; the post-step hook zeroes them again.
    for p in model.parameters():
        opt.state[p]['step'] = torch.tensor(1.0)
        opt.state[p]['exp_avg'] = torch.ones_like(p)
        opt.state[p]['exp_avg_sq'] = torch.ones_like(p)
    x, y = _batch()
    model(x, y, mode='loss')['loss'].backward()
    opt.step()
    assert torch.all(_pruned_values(model, masks) == 0)
    enforcer.detach()
    model(x, y, mode='loss')['loss'].backward()
    opt.step()  # without the hook the stale state revives pruned weights: the test can fail
    assert torch.any(_pruned_values(model, masks) != 0)


def test_amp_grad_scaler_steps_and_skipped_steps_keep_zeros():
    model, masks, enforcer = masked_toy()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    enforcer.attach(opt)
    scaler = torch.amp.GradScaler('cpu', init_scale=2.0**8)
    x, y = _batch()
    for step in range(3):
        opt.zero_grad()
        with torch.autocast('cpu', dtype=torch.bfloat16):
            loss = model(x, y, mode='loss')['loss']
        scaler.scale(loss).backward()
        if step == 1:  # an overflow: GradScaler skips optimizer.step()
            next(model.parameters()).grad.fill_(float('inf'))
            before = {n: p.detach().clone() for n, p in model.named_parameters()}
        scale = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        if step == 1:
            assert scaler.get_scale() < scale  # the step really was skipped
            for n, p in model.named_parameters():
                assert torch.equal(p, before[n])
        assert torch.all(_pruned_values(model, masks) == 0)


def test_frozen_weights_are_masked_once_and_not_hooked():
    model = LTHToyNet(frozen_stem=True)
    names = select_prunable(model)
    params = dict(model.named_parameters())
    masks = MaskSet({n: torch.rand(params[n].shape) > 0.5 for n in names})
    enforcer = MaskEnforcer(model)
    enforcer.set_masks(masks)
    enforcer.apply()
    assert 'backbone.conv1.weight' not in enforcer._trainable
    assert torch.all(model.backbone.conv1.weight[masks['backbone.conv1.weight'] == 0] == 0)


def test_in_place_mask_update_reaches_the_hooks():
    model, masks, enforcer = masked_toy()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    enforcer.attach(opt)
    tighter = global_magnitude({n: p.detach() for n, p in model.named_parameters()
                                if n in masks}, masks.as_bool(), 0.1)
    masks.update_(tighter)
    enforcer.apply()
    x, y = _batch()
    model(x, y, mode='loss')['loss'].backward()
    opt.step()
    params = dict(model.named_parameters())
    for n, m in tighter.items():
        assert torch.all(params[n].grad[~m] == 0)
        assert torch.all(params[n][~m] == 0)


def _wrapper(model, **kwargs):
    from mmengine.optim import build_optim_wrapper
    return build_optim_wrapper(model, dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-2), **kwargs))


def test_clipping_sees_masked_gradients_and_detach_restores_the_wrapper():
    model, masks, enforcer = masked_toy()
    ow = _wrapper(model, clip_grad=dict(max_norm=1e-3))
    enforcer.attach(ow)
    assert '_clip_grad' in vars(ow)
    x, y = _batch()
    ow.backward(model(x, y, mode='loss')['loss'])
    params = dict(model.named_parameters())
    masked_norm = torch.norm(torch.stack([
        torch.norm(p.grad * masks[n] if n in masks else p.grad) for n, p in params.items()]))
    raw_norm = torch.norm(torch.stack([torch.norm(p.grad) for p in params.values()]))
    assert raw_norm > masked_norm * 1.01  # the pruned gradients are not negligible here
    ow.step()
    # mmengine logs the norm its clipping saw: that of the surviving gradients
    logged = ow.message_hub.get_scalar('train/grad_norm').current()
    assert logged == pytest.approx(float(masked_norm), rel=1e-5)
    assert torch.all(_pruned_values(model, masks) == 0)
    enforcer.detach()
    assert '_clip_grad' not in vars(ow)


def test_optim_wrapper_dict_masks_each_optimizers_own_parameters():
    # (AmpOptimWrapper needs a GPU in mmengine; the GradScaler test above covers its
    # skipped steps, which call neither hook.)
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    model, masks, enforcer = masked_toy()
    bb = [p for n, p in model.named_parameters() if n.startswith('backbone')]
    hd = [p for n, p in model.named_parameters() if not n.startswith('backbone')]
    ows = OptimWrapperDict(
        backbone=OptimWrapper(torch.optim.AdamW(bb, lr=0.1, weight_decay=0.1),
                              clip_grad=dict(max_norm=10.0)),
        head=OptimWrapper(torch.optim.SGD(hd, lr=0.1, momentum=0.9, weight_decay=0.1)))
    enforcer.attach(ows)
    names = {id(p): n for n, p in model.named_parameters()}
    per_opt = [{names[id(p)] for p in v[0]} for v in enforcer._groups.values()]
    assert len(per_opt) == 2 and not (per_opt[0] & per_opt[1])
    assert per_opt[0] | per_opt[1] == set(masks.names())
    x, y = _batch()
    for _ in range(3):
        ows.zero_grad()
        model(x, y, mode='loss')['loss'].backward()
        ows['backbone'].step()
        ows['head'].step()
        assert torch.all(_pruned_values(model, masks) == 0)
    enforcer.close()
    assert '_clip_grad' not in vars(ows['backbone'])
