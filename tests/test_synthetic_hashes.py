# Copyright (c) lth_mm authors. All rights reserved.
"""The synthetic data stay identical: every variant's decoded content against its hashes.

tests/fixtures/synthetic_hashes.json was made by tests/fixtures/make_synthetic_hashes.py
at commit f64a4bf, before the generator was split into a package; a changed pixel, box,
polygon, keypoint, crop or parameter of any variant fails here.
"""
import json
import os.path as osp
import runpy

import pytest

FIXTURES = osp.join(osp.dirname(osp.abspath(__file__)), 'fixtures')
MAKER = runpy.run_path(osp.join(FIXTURES, 'make_synthetic_hashes.py'))


@pytest.fixture(scope='module')
def hashes(tmp_path_factory):
    return MAKER['variant_hashes'](str(tmp_path_factory.mktemp('synthetic_hashes')))


@pytest.fixture(scope='module')
def expected():
    with open(MAKER['HASH_FILE'], encoding='utf-8') as f:
        return json.load(f)


@pytest.mark.parametrize('variant', [*MAKER['DETECTION_VARIANTS'], *MAKER['CLS_VARIANTS']])
def test_variant_content_unchanged(hashes, expected, variant):
    got, want = hashes[variant], expected[variant]
    assert sorted(got) == sorted(want)  # the same files
    changed = sorted(rel for rel in want if got[rel] != want[rel])
    assert not changed, f'{variant}: content changed in {changed}'
