"""The demo config (configs/demo/) and the easier synthetic variant it trains on.

The demo's measured numbers live in docs/demo.md; here: the variant's knobs do what they
say and leave the default data byte-identical, and the demo config builds and runs its
three rounds (dense, ticket, random ticket) for 2 iterations each on tiny data.
"""
import glob
import hashlib
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from lth_mm.datasets import synthetic
from lth_mm.datasets.synthetic import (VARIANT_DEFAULTS, ensure_synthetic_dataset,
                                       normalize_params, render_image)

from _toy import synthetic_cfg, train_rounds

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = glob.glob(osp.join(REPO, 'configs', 'demo', '*.py'))

# sha256 (first 16 hex) of render_image's pixels for train images 0-3 of seed 0, taken
# from the generator before the variant knobs existed: the defaults must not move them.
GOLDEN = {96: ['44bccf63b9b8fa8f', 'b866c26a1c124289', '00fff9ae85cba9ba', '6f522c89613493af'],
          192: ['0155bef9224fd756', 'b66bbbeac2746fcd', '5191e0efb0afda1a', '3c4ba846e98c78d3']}


def _render(index, img_size, **variant):
    return render_image(synthetic.image_rng(0, 'train', index), img_size, **variant)


@pytest.mark.parametrize('img_size', sorted(GOLDEN))
def test_default_images_unchanged(img_size):
    for index, want in enumerate(GOLDEN[img_size]):
        image, _ = _render(index, img_size)
        assert hashlib.sha256(image.tobytes()).hexdigest()[:16] == want
        explicit, _ = _render(index, img_size, **VARIANT_DEFAULTS)
        assert np.array_equal(image, explicit)


def test_default_params_have_no_variant_keys():
    # meta.json of a default dataset stays byte-identical (and old datasets stay valid).
    assert normalize_params() == synthetic.DEFAULT_SYNTHETIC
    assert normalize_params(max_shapes=5, background='varied', min_size_frac=0.1) == \
        synthetic.DEFAULT_SYNTHETIC
    assert normalize_params(max_shapes=3)['max_shapes'] == 3


def test_easy_variant_knobs():
    img_size = 96
    for index in range(12):
        image, instances = _render(index, img_size, max_shapes=2, background='solid',
                                   min_size_frac=0.25)
        assert 1 <= len(instances) <= 2
        # The top-most shape is drawn last, unoccluded: its side is >= 0.25 * 96 = 24 px
        # (a triangle's height is sqrt(3)/2 of its side, the width is the side).
        ys, xs = np.nonzero(instances[-1]['visible'])
        assert np.ptp(xs) + 1 >= 24
        assert _background_std(image, instances) < 5  # only the sensor noise
    # The default draws gradients, noise and stripes in some of the same images.
    assert max(_background_std(*_render(i, img_size)) for i in range(12)) > 20


def _background_std(image, instances):
    covered = np.zeros(image.shape[:2], bool)
    for inst in instances:
        covered |= inst['visible']
    return image[~covered].reshape(-1, 3).astype(float).std(axis=0).max()


@pytest.mark.parametrize('bad, match', [
    (dict(max_shapes=0), 'max_shapes'), (dict(max_shapes=6), 'max_shapes'),
    (dict(background='noisy'), 'background'), (dict(min_size_frac=0.5), 'min_size_frac'),
    (dict(colour=1), 'unknown')])
def test_variant_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        normalize_params(**bad)


def test_variant_and_default_datasets_do_not_mix(tmp_path):
    root = str(tmp_path / 'easy')
    ensure_synthetic_dataset(root, num_train=2, num_val=1, img_size=64, max_shapes=2)
    meta = json.loads((tmp_path / 'easy' / 'meta.json').read_text())
    assert meta['params']['max_shapes'] == 2
    assert ensure_synthetic_dataset(root, num_train=2, num_val=1, img_size=64,
                                    max_shapes=2) == root
    with pytest.raises(ValueError, match='max_shapes'):
        ensure_synthetic_dataset(root, num_train=2, num_val=1, img_size=64)


def test_demo_config_builds_and_runs_its_rounds(tmp_path):
    """The demo config as `make demo` uses it, on 8 tiny images: 2 iterations a round."""
    assert len(DEMO) == 1, DEMO
    shipped = Config.fromfile(DEMO[0])
    assert shipped.randomness.deterministic and shipped.lottery.controls == ['random_ticket']
    easy = {k: shipped.synthetic[k] for k in VARIANT_DEFAULTS}
    # 8 images / batch 4 = 2 iterations
    cfg = synthetic_cfg(DEMO[0], tmp_path, dict(num_train=8, num_val=2, img_size=96, seed=1,
                                                 **easy),
                        max_epochs=1, lottery=dict(rewind_epochs=None, rewind_iter=1))
    _, rows = train_rounds(cfg)
    assert [r['kind'] for r in rows] == ['dense', 'ticket', 'random_ticket']
    assert [r['iters'] for r in rows] == [2, 2, 2]
    for row in rows:
        assert {'coco/bbox_mAP', 'coco/segm_mAP'} <= set(row['metrics'])
    assert rows[1]['prunable_sparsity'] == pytest.approx(0.8, abs=1e-4)


def test_demo_rewind_point_is_not_inside_its_warm_up():
    """The demo must not trip its own warning: the rewind point, resolved as the runner
    resolves it (one epoch = train images / batch), is at or after the warm-up's end."""
    from lth_mm.engine.rewind import resolve_rewind_iter, warmup_end, warmup_warning
    from lth_mm.pruning import LotterySettings
    cfg = Config.fromfile(DEMO[0])
    s = LotterySettings.from_dict(cfg.lottery)
    ipe = -(-cfg.synthetic.num_train // cfg.train_dataloader.batch_size)
    k = resolve_rewind_iter(s.rewind_iter, s.rewind_epochs, ipe)
    assert k == warmup_end(cfg.param_scheduler, ipe) == 30
    assert warmup_warning(k, cfg.param_scheduler, ipe) is None
