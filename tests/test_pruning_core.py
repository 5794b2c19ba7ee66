"""Unit tests of the pure pruning math (no mmengine Runner)."""
import os

import pytest
import torch
import torch.nn as nn

from lth_mm.pruning import (LotteryConfigError, LotterySettings, MaskSet, ScheduleError,
                            ScopeError, TicketError, check_fits, compute_masks,
                            global_magnitude, keep_ratios, layerwise_magnitude, load_ticket,
                            pack_bool, permute_within, random_with_counts, save_ticket,
                            select_prunable, unpack_bool)


class _Block(nn.Module):

    def __init__(self, cin, cout, downsample=False):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout)) \
            if downsample else None


class _Toy(nn.Module):
    """Names like mmdet's two-stage detectors."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.conv1 = nn.Conv2d(3, 8, 3)
        self.backbone.layer1 = nn.Sequential(_Block(8, 8))
        self.backbone.layer4 = nn.Sequential(_Block(8, 16, downsample=True))
        self.neck = nn.Module()
        self.neck.lateral_convs = nn.ModuleList([nn.Conv2d(16, 8, 1)])
        self.rpn_head = nn.Module()
        self.rpn_head.rpn_conv = nn.Conv2d(8, 8, 3)
        self.rpn_head.rpn_cls = nn.Conv2d(8, 3, 1)
        self.rpn_head.rpn_reg = nn.Conv2d(8, 12, 1)
        self.roi_head = nn.Module()
        self.roi_head.bbox_head = nn.Module()
        self.roi_head.bbox_head.shared_fcs = nn.ModuleList([nn.Linear(32, 16)])
        self.roi_head.bbox_head.fc_cls = nn.Linear(16, 5)
        self.roi_head.bbox_head.fc_reg = nn.Linear(16, 16)
        self.roi_head.mask_head = nn.Module()
        self.roi_head.mask_head.upsample = nn.ConvTranspose2d(8, 8, 2)
        self.roi_head.mask_head.conv_logits = nn.Conv2d(8, 4, 1)


# ----------------------------------------------------------------------------- scope
def test_paper_scope_excludes_shortcuts_predictors_norms_biases():
    names = select_prunable(_Toy(), 'paper')
    assert names == [
        'backbone.conv1.weight', 'backbone.layer1.0.conv1.weight',
        'backbone.layer1.0.conv2.weight', 'backbone.layer4.0.conv1.weight',
        'backbone.layer4.0.conv2.weight', 'neck.lateral_convs.0.weight',
        'rpn_head.rpn_conv.weight', 'roi_head.bbox_head.shared_fcs.0.weight',
        'roi_head.mask_head.upsample.weight'
    ]


def test_all_and_backbone_presets_and_groups():
    model = _Toy()
    all_names = select_prunable(model, 'all')
    assert 'rpn_head.rpn_cls.weight' in all_names
    assert 'backbone.layer4.0.downsample.0.weight' in all_names
    assert not any(n.endswith('bias') or '.bn' in n for n in all_names)
    bb = select_prunable(model, 'backbone')
    assert bb and all(n.startswith('backbone.') for n in bb)
    assert 'backbone.layer4.0.downsample.0.weight' not in bb
    top = select_prunable(model, 'paper', groups=['roi_top'])
    assert top == ['backbone.layer4.0.conv1.weight', 'backbone.layer4.0.conv2.weight']
    rpn_box = select_prunable(model, 'paper', groups=['rpn', 'box_head'])
    assert rpn_box == ['rpn_head.rpn_conv.weight', 'roi_head.bbox_head.shared_fcs.0.weight']
    inc = select_prunable(model, 'paper', include=[r'^backbone'], exclude=[r'layer4'])
    assert inc == ['backbone.conv1.weight', 'backbone.layer1.0.conv1.weight',
                   'backbone.layer1.0.conv2.weight']


def test_empty_scope_is_an_error_naming_the_patterns():
    with pytest.raises(ScopeError, match=r'selects no parameter.*nothing_matches'):
        select_prunable(_Toy(), 'paper', include=['nothing_matches'])
    with pytest.raises(ScopeError, match='unknown module group'):
        select_prunable(_Toy(), 'paper', groups=['bakbone'])
    with pytest.raises(ScopeError, match='invalid regular expression'):
        select_prunable(_Toy(), 'paper', exclude=['('])


# ----------------------------------------------------------------------------- schedule
def test_schedules():
    assert keep_ratios(2, keep_ratio=0.2) == [1.0, 0.2]
    r = keep_ratios(4, keep_ratio=0.125)
    assert r[0] == 1.0 and r[1] == pytest.approx(0.5) and r[3] == pytest.approx(0.125)
    assert keep_ratios(3, 'fixed_rate', prune_rate=0.2) == pytest.approx([1.0, 0.8, 0.64])
    assert keep_ratios(3, 'list', sparsities=[0.5, 0.8]) == pytest.approx([1.0, 0.5, 0.2])
    assert keep_ratios(3, 'list', sparsities=[0, 0.5, 0.8]) == pytest.approx([1.0, 0.5, 0.2])
    assert keep_ratios(1, keep_ratio=1.0) == [1.0]


@pytest.mark.parametrize('kwargs,match', [
    (dict(rounds=2, keep_ratio=0.0), r'keep_ratio must be in \(0, 1\]'),
    (dict(rounds=2, keep_ratio=1.5), r'keep_ratio must be in \(0, 1\]'),
    (dict(rounds=1, keep_ratio=0.2), 'needs lottery.rounds >= 2'),
    (dict(rounds=3, schedule='list', sparsities=[0.8, 0.5]), 'non-decreasing'),
    (dict(rounds=3, schedule='list', sparsities=[0.5]), 'needs 2'),
])
def test_schedule_errors(kwargs, match):
    with pytest.raises(ScheduleError, match=match):
        keep_ratios(**kwargs)


# ----------------------------------------------------------------------------- criteria
def _weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    return {'a': torch.randn(10, 10, generator=g), 'b': 3 * torch.randn(50, generator=g),
            'c': 0.1 * torch.randn(7, 3, generator=g)}


def _ones(w):
    return {n: torch.ones_like(t, dtype=torch.bool) for n, t in w.items()}


def test_global_magnitude_is_one_threshold_with_exact_count():
    w = _weights()
    m = global_magnitude(w, _ones(w), 0.3)
    total = sum(t.numel() for t in w.values())
    assert sum(int(x.sum()) for x in m.values()) == round(0.3 * total)
    kept = torch.cat([w[n].abs()[m[n]] for n in w])
    pruned = torch.cat([w[n].abs()[~m[n]] for n in w])
    assert kept.min() >= pruned.max()
    # The large-scale tensor keeps a larger fraction than the small-scale one.
    assert m['b'].float().mean() > m['c'].float().mean()


def test_pruned_weights_stay_pruned_even_if_large():
    w = _weights()
    m1 = global_magnitude(w, _ones(w), 0.5)
    w2 = {n: t.clone() for n, t in w.items()}
    w2['a'][~m1['a']] = 100.0  # a pruned weight that "revived" would win any threshold
    m2 = global_magnitude(w2, m1, 0.25)
    for n in w:
        assert not (m2[n] & ~m1[n]).any()


def _reference_global(weights, masks, keep):
    """The definition, by a full stable sort: largest scores first, ties lowest flat index."""
    names = list(weights)
    flat = torch.cat([torch.where(masks[n].bool(), weights[n].abs().float(),
                                  torch.tensor(-1.0)).flatten() for n in names])
    k = int(round(keep * flat.numel()))
    order = torch.sort(-flat, stable=True).indices[:k]
    keep_flat = torch.zeros(flat.numel(), dtype=torch.bool)
    keep_flat[order] = True
    return dict(zip(names, (c.view_as(weights[n]) for n, c in
                            zip(names, keep_flat.split([weights[n].numel() for n in names])))))


def _tied_cases(seed):
    g = torch.Generator().manual_seed(seed)
    for trial in range(12):
        sizes = torch.randint(1, 400, (4, ), generator=g).tolist()
        if trial % 3 == 0:  # continuous values
            w = {f't{i}': torch.randn(s, generator=g) for i, s in enumerate(sizes)}
        else:  # few distinct magnitudes: many ties at the threshold
            w = {f't{i}': (torch.randint(0, 5, (s, ), generator=g) - 2).float()
                 for i, s in enumerate(sizes)}
        m = ({n: torch.ones_like(t, dtype=torch.bool) for n, t in w.items()} if trial % 4 == 0
             else {n: torch.rand(t.shape, generator=g) > 0.3 for n, t in w.items()})
        yield w, m


@pytest.mark.parametrize('bracket', [None, (1e9, 1e9), (-5.0, -5.0), (0.0, 0.0)])
def test_global_magnitude_matches_the_definition_with_ties(monkeypatch, bracket):
    # bracket: force the sampled search to miss so that the exact fallback runs too
    from lth_mm.pruning import criteria
    if bracket is not None:
        monkeypatch.setattr(criteria, '_sampled_bracket', lambda *a: bracket)
    for w, m in _tied_cases(3):
        total = sum(t.numel() for t in w.values())
        alive = sum(int(x.sum()) for x in m.values())
        for keep in (0.01, 0.2, 0.5, alive / total):
            got = global_magnitude(w, m, keep)
            ref = _reference_global(w, m, keep)
            assert all(torch.equal(got[n], ref[n]) for n in w), (keep, bracket)
            assert sum(int(x.sum()) for x in got.values()) == round(keep * total)


def test_global_magnitude_large_tensor_uses_the_sample_and_agrees():
    # big enough for a strided sample (stride > 1) and a narrow bracket
    g = torch.Generator().manual_seed(0)
    w = {'a': torch.randn(600_000, generator=g), 'b': 0.5 * torch.randn(300, 400, generator=g)}
    m = {n: torch.rand(t.shape, generator=g) > 0.5 for n, t in w.items()}
    got = global_magnitude(w, m, 0.2)
    ref = _reference_global(w, m, 0.2)
    assert all(torch.equal(got[n], ref[n]) for n in w)


def test_layerwise_keeps_same_fraction_everywhere():
    w = _weights()
    m = layerwise_magnitude(w, _ones(w), 0.2)
    for n, t in w.items():
        assert int(m[n].sum()) == round(0.2 * t.numel())


def test_random_criterion_and_random_ticket_match_counts():
    w = _weights()
    mag = global_magnitude(w, _ones(w), 0.3)
    rnd = compute_masks('random', w, _ones(w), 0.3, torch.Generator().manual_seed(1))
    ctl = random_with_counts(mag, torch.Generator().manual_seed(2))
    for n in w:
        assert int(rnd[n].sum()) == int(mag[n].sum()) == int(ctl[n].sum())
    assert any(not torch.equal(rnd[n], mag[n]) for n in w)


def test_permute_within_keeps_values():
    w = _weights()
    p = permute_within(w, torch.Generator().manual_seed(0))
    for n in w:
        assert torch.equal(p[n].flatten().sort().values, w[n].flatten().sort().values)
        assert not torch.equal(p[n], w[n])


# ----------------------------------------------------------------------------- masks
@pytest.mark.parametrize('shape', [(1, ), (7, ), (3, 5, 2), (64, 3, 3, 3)])
def test_pack_unpack_roundtrip(shape):
    m = torch.rand(shape) > 0.5
    assert torch.equal(unpack_bool(pack_bool(m), shape), m)


def test_maskset_apply_stats_state_and_in_place_update():
    w = _weights()
    params = {n: nn.Parameter(t.clone()) for n, t in w.items()}
    ms = MaskSet(global_magnitude(w, _ones(w), 0.4)).bind_(params)
    assert ms['a'].dtype == torch.float32
    ms.apply_(params)
    for n in w:
        assert torch.all(params[n][ms[n] == 0] == 0)
    assert ms.prunable_sparsity() == pytest.approx(1 - round(0.4 * 171) / 171)
    assert ms.network_sparsity(1000) == pytest.approx((171 - round(0.4 * 171)) / 1000)
    back = MaskSet.from_state_dict(ms.state_dict())
    assert back.equal(ms)
    ref = ms['a']
    ms.update_(global_magnitude(w, ms.as_bool(), 0.2))
    assert ms['a'] is ref  # in place: hooks holding the tensor see the new mask
    assert ms.kept() == round(0.2 * 171)


# ----------------------------------------------------------------------------- tickets
def test_ticket_roundtrip_and_fit_checks(tmp_path):
    model = _Toy()
    names = select_prunable(model)
    params = dict(model.named_parameters())
    masks = MaskSet({n: torch.rand(params[n].shape) > 0.5 for n in names})
    path = str(tmp_path / 'ticket.pth')
    save_ticket(path, masks, dict(round=1, keep_ratio=0.5))
    t = load_ticket(path)
    assert t.masks.equal(masks) and t.meta['round'] == 1
    check_fits(t.masks, params, names)  # fits
    with pytest.raises(TicketError, match='have no mask'):
        check_fits(t.masks, params, names + ['rpn_head.rpn_cls.weight'])
    bad = MaskSet({**masks.as_bool(), 'backbone.conv1.weight': torch.ones(2, 2).bool()})
    with pytest.raises(TicketError, match='shape mismatch'):
        check_fits(bad, params, names)
    extra = MaskSet({**masks.as_bool(), 'nope.weight': torch.ones(2).bool()})
    with pytest.raises(TicketError, match='not in the model'):
        check_fits(extra, params, names)


def test_corrupt_truncated_and_foreign_tickets(tmp_path):
    masks = MaskSet({'w': torch.ones(100, dtype=torch.bool)})
    path = str(tmp_path / 't.pth')
    save_ticket(path, masks, {})
    data = open(path, 'rb').read()
    trunc = tmp_path / 'trunc.pth'
    trunc.write_bytes(data[:len(data) // 2])
    with pytest.raises(TicketError, match='truncated or corrupt'):
        load_ticket(str(trunc))
    foreign = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': {}}, foreign)
    with pytest.raises(TicketError, match='not an lth_mm ticket'):
        load_ticket(str(foreign))
    with pytest.raises(TicketError, match='does not exist'):
        load_ticket(str(tmp_path / 'missing.pth'))
    # The failed loads left the good ticket untouched and no temp files behind.
    assert load_ticket(path).masks.equal(masks)
    assert sorted(os.listdir(tmp_path)) == ['ckpt.pth', 't.pth', 'trunc.pth']


# ----------------------------------------------------------------------------- settings
def test_settings_typo_gets_a_suggestion():
    with pytest.raises(LotteryConfigError, match="'keep_ration' \\(did you mean 'keep_ratio'"):
        LotterySettings.from_dict(dict(keep_ration=0.2))


@pytest.mark.parametrize('cfg,match', [
    (dict(keep_ratio=0), 'keep_ratio'),
    (dict(rounds=1, keep_ratio=0.5), 'rounds >= 2'),
    (dict(rewind_iter=10, rewind_epochs=1), 'exclusive'),
    (dict(rewind_iter=-1), 'rewind_iter'),
    (dict(controls=['random']), 'unknown control'),
    (dict(controls=['random_ticket'], rewind_mode='lr'), "not 'lr'"),
    (dict(criterion='l1'), 'criterion'),
    (dict(groups=['rpn', 'heads']), 'unknown module group'),
])
def test_settings_errors(cfg, match):
    with pytest.raises(LotteryConfigError, match=match):
        LotterySettings.from_dict(cfg)


def test_plan_with_controls():
    s = LotterySettings.from_dict(dict(rounds=2, keep_ratio=0.2,
                                       controls=['random_ticket', 'random_reinit']))
    assert [(p['round'], p['kind']) for p in s.plan()] == [(0, 'dense'), (1, 'ticket'),
                                                           (2, 'random_ticket'),
                                                           (3, 'random_reinit')]
    assert s.plan()[2]['keep_ratio'] == pytest.approx(0.2)
