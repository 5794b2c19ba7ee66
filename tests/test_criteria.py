"""Pruning criteria as registry entries: LAMP (Lee et al., ICLR 2021), the per-tensor
density floor ``min_density``, the collapse report, and their settings (pure PyTorch)."""
import numpy as np
import pytest
import torch

from lth_mm.pruning import (CRITERIA, LotteryConfigError, LotterySettings, collapsed_tensors,
                            compute_masks, floor_count, format_collapse, global_magnitude,
                            lamp, layerwise_magnitude, round_start)


def _ones(w):
    return {n: torch.ones_like(t, dtype=torch.bool) for n, t in w.items()}


def _kept(m):
    return sum(int(t.sum()) for t in m.values())


def _weights(seed=0):
    """Five tensors; ``small`` has tiny weights (fan-in scaled init of a huge layer)."""
    g = torch.Generator().manual_seed(seed)
    w = {'conv': torch.randn(16, 8, 3, 3, generator=g),
         'small': 0.01 * torch.randn(64, 256, generator=g),
         'fc': torch.randn(32, 64, generator=g),
         'pred': torch.randn(3, 32, generator=g),
         'ties': torch.randint(0, 3, (500,), generator=g).float()}
    return w


def _lamp_by_definition(w, masks):
    """LAMP scores by a full sort (the paper's formula; ties share their group's sum)."""
    out = []
    for n, t in w.items():
        a = t.flatten().double() ** 2
        live = masks[n].flatten()
        s = np.sort(a[live].numpy())[::-1]
        csum = np.cumsum(s)
        last = np.searchsorted(-s, -a.numpy(), side='right') - 1
        sc = a.numpy() / np.maximum(csum[np.maximum(last, 0)], 1e-300)
        sc[~live.numpy()] = -1.0
        out.append(torch.from_numpy(sc))
    return torch.cat(out)


def test_registry_entries_and_configs():
    assert {'global_magnitude', 'layerwise_magnitude', 'lamp', 'random'} <= set(CRITERIA)
    w = _weights()
    by_name = compute_masks('lamp', w, _ones(w), 0.3)
    by_dict = compute_masks(dict(type='lamp'), w, _ones(w), 0.3)
    assert all(torch.equal(by_name[n], by_dict[n]) for n in w)
    with pytest.raises(ValueError, match='unknown criterion'):
        compute_masks('l1', w, _ones(w), 0.3)
    with pytest.raises(ValueError, match='unknown option'):
        compute_masks(dict(type='lamp', power=2), w, _ones(w), 0.3)

    @CRITERIA.register_module(name='_test_keep_first')
    def keep_first(weights, masks, keep, *, generator=None, min_density=None, count=1):
        return {n: torch.arange(t.numel()).view_as(t) < count for n, t in weights.items()}
    keep_first.options = ('count',)
    try:
        m = compute_masks(dict(type='_test_keep_first', count=2), w, _ones(w), 0.3)
        assert _kept(m) == 2 * len(w)
        with pytest.raises(KeyError, match='already registered'):
            CRITERIA.register_module(name='_test_keep_first', module=keep_first)
    finally:
        CRITERIA._entries.pop('_test_keep_first')


@pytest.mark.parametrize('keep', [0.6, 0.3, 0.1, 0.02])
def test_lamp_is_the_definition_with_exact_count_and_ties(keep):
    w = _weights()
    masks = _ones(w)
    for step in range(2):  # a second, iterative round from the first round's mask
        m = lamp(w, masks, keep ** (step + 1))
        flat = torch.cat([m[n].flatten() for n in w])
        scores = _lamp_by_definition(w, masks)
        k = int(round(keep ** (step + 1) * flat.numel()))
        thr = scores.sort(descending=True).values[k - 1]
        assert int(flat.sum()) == k
        assert bool(flat[scores > thr].all()) and not bool(flat[scores < thr].any())
        tied = (scores == thr).nonzero().flatten()
        # ties at the threshold: lowest concatenated index first, as global_magnitude
        n_tied = k - int((scores > thr).sum())
        assert flat[tied].tolist() == [True] * n_tied + [False] * (tied.numel() - n_tied)
        assert all(bool((m[n] <= masks[n]).all()) for n in w)  # never revives
        masks = m


def test_lamp_keeps_every_tensor_alive_where_global_magnitude_collapses_one():
    w = _weights()
    g = global_magnitude(w, _ones(w), 0.05)
    l_ = lamp(w, _ones(w), 0.05)
    assert [n for n, _, _ in collapsed_tensors(g, floor=1e-9)] == ['small']
    assert int(g['small'].sum()) == 0
    assert collapsed_tensors(l_, floor=1e-9) == []
    assert all(int(l_[n].sum()) > 0 for n in w)
    assert _kept(l_) == _kept(g) == int(round(0.05 * sum(t.numel() for t in w.values())))


def test_lamp_sample_misjudged_bands_fall_back_to_the_exact_result(monkeypatch):
    """A wrong count estimate only costs speed: the bands widen and the result is exact."""
    import sys
    mod = sys.modules['lth_mm.pruning.lamp']
    w = {'a': torch.randn(20000), 'b': 0.1 * torch.randn(30000), 'c': torch.randn(700)}
    good = lamp(w, _ones(w), 0.15)
    for wrong in (lambda *a: {n: 0 for n in w}, lambda *a: {n: t.numel() for n, t in w.items()},
                  lambda *a: {'a': 0, 'b': 30000, 'c': 5}):
        monkeypatch.setattr(mod, '_estimate_counts', wrong)
        bad = lamp(w, _ones(w), 0.15)
        assert all(torch.equal(good[n], bad[n]) for n in w)


@pytest.mark.parametrize('criterion', ['global_magnitude', 'lamp', 'random'])
def test_min_density_holds_exactly_and_the_total_stays_exact(criterion):
    w = _weights()
    total = sum(t.numel() for t in w.values())
    for md in (0.01, 0.03, 0.045):
        m = compute_masks(criterion, w, _ones(w), 0.05, torch.Generator().manual_seed(0),
                          min_density=md)
        assert _kept(m) == int(round(0.05 * total))
        for n, t in w.items():
            assert int(m[n].sum()) >= floor_count(md, t.numel()), (criterion, md, n)
    # without a floor 'small' collapses under global magnitude; with one it keeps exactly
    # its floor (its weights lose every global comparison), its largest ones
    g = global_magnitude(w, _ones(w), 0.05, min_density=0.02)
    assert int(g['small'].sum()) == floor_count(0.02, w['small'].numel()) == 328
    top = w['small'].abs().flatten().topk(328).indices
    assert bool(g['small'].flatten()[top].all())
    # the floor's weights come out of the same budget: the other tensors keep a subset
    plain = global_magnitude(w, _ones(w), 0.05)
    for n in ('conv', 'fc'):
        assert torch.equal(plain[n] & g[n], g[n]) and int(g[n].sum()) < int(plain[n].sum())


def test_min_density_rounding_and_impossible_floors():
    assert floor_count(0.07, 100) == 7  # 0.07 * 100 = 7.000000000000001 in floating point
    assert floor_count(0.01, 150) == 2  # ceil: the density is never under the floor
    assert floor_count(None, 100) == 0
    w = _weights()
    lw = layerwise_magnitude(w, _ones(w), 0.2, min_density=0.2)
    assert int(lw['pred'].sum()) == floor_count(0.2, 96) == 20  # round(19.2) = 19 lifted
    with pytest.raises(ValueError, match='more than the'):
        global_magnitude(w, _ones(w), 0.05, min_density=0.05 + 1e-3)
    pruned = dict(_ones(w), small=torch.zeros(64, 256, dtype=torch.bool))
    with pytest.raises(ValueError, match='only 0 are alive'):
        lamp(w, pruned, 0.05, min_density=0.01)


def test_round_start_passes_min_density_to_the_criterion():
    w = _weights()
    start = round_start('ticket', weights=lambda: w, current=None, keep_ratio=0.05,
                        criterion=dict(type='global_magnitude'),
                        generator=torch.Generator(), min_density=0.02)
    assert int(start.masks['small'].sum()) == 328
    plain = round_start('ticket', weights=lambda: w, current=None, keep_ratio=0.05,
                        criterion='global_magnitude', generator=torch.Generator())
    assert int(plain.masks['small'].sum()) == 0


def test_collapse_report_names_size_and_density():
    masks = {'a.weight': torch.zeros(10, 10, dtype=torch.bool),
             'b.weight': torch.ones(10, 10, dtype=torch.bool),
             'c.weight': torch.tensor([True] + [False] * 199)}
    got = collapsed_tensors(masks)
    assert got == [('a.weight', 0.0, 100), ('c.weight', 0.005, 200)]
    line = format_collapse(got)
    assert line == ('collapse: 2 prunable tensors below 1% density: a.weight 0.00% of 100, '
                    'c.weight 0.50% of 200')
    assert format_collapse([]) == 'collapse: no prunable tensor below 1% density'
    assert format_collapse(got, limit=1).endswith('(+1 more)')
    assert collapsed_tensors(masks, floor=0.005) == [('a.weight', 0.0, 100)]


def test_settings_lamp_dict_criteria_and_min_density():
    s = LotterySettings.from_dict(dict(criterion='lamp', min_density=0.01, keep_ratio=0.2))
    assert LotterySettings.from_dict(s.to_dict()) == s
    d = LotterySettings.from_dict(dict(criterion=dict(type='lamp'), rounds=3))
    assert d.criterion == {'type': 'lamp'} and d.criterion_name == 'lamp'
    assert LotterySettings.from_dict(d.to_dict()) == d
    assert LotterySettings().min_density is None  # off by default: the paper's numbers
    for cfg, match in [
            (dict(criterion='l1'), 'unknown criterion'),
            (dict(criterion=dict(type='lamp', p=1)), 'unknown option'),
            (dict(criterion=dict(kind='lamp')), 'type'),
            (dict(min_density=0.3, keep_ratio=0.2), 'above the final keep ratio'),
            (dict(min_density=0), 'min_density'),
            (dict(min_density=0.01, ticket='t.pth'), 'not pruned')]:
        with pytest.raises(LotteryConfigError, match=match):
            LotterySettings.from_dict(cfg)
