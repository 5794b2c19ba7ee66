# Copyright (c) lth_mm authors. All rights reserved.
"""Every config of configs/ resolves to its snapshot (tests/fixtures/resolved_configs/).

The snapshot guards refactorings of the ``_base_`` tree: a config's content must not change
when a block moves into a base. A deliberate change of a config rewrites its snapshot:

    python tests/fixtures/resolved_configs/make_snapshot.py configs/<dir>/<name>.py

(no argument: every config, and the snapshots of removed configs are deleted).
"""
import importlib.util
import json
import os.path as osp

import pytest

_spec = importlib.util.spec_from_file_location(
    'make_snapshot', osp.join(osp.dirname(osp.abspath(__file__)), 'fixtures',
                              'resolved_configs', 'make_snapshot.py'))
make_snapshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_snapshot)

CONFIGS = make_snapshot.config_paths()
REGENERATE = 'python tests/fixtures/resolved_configs/make_snapshot.py'
MAX_LISTED = 20


def differences(want, have, where=''):
    """The key paths at which two canonical configs differ, with both values.

    Args:
        want: the snapshot's value.
        have: the value the config resolves to now.
        where (str): the key path of these values.

    Returns:
        list[str]: one line a difference, ``path: snapshot ... != now ...``.
    """
    if isinstance(want, dict) and isinstance(have, dict):
        out = []
        for key in sorted(set(want) | set(have)):
            path = f'{where}.{key}' if where else key
            if key not in have:
                out.append(f'{path}: only in the snapshot')
            elif key not in want:
                out.append(f'{path}: not in the snapshot')
            else:
                out += differences(want[key], have[key], path)
        return out
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        out = []
        for i, (w, h) in enumerate(zip(want, have)):
            out += differences(w, h, f'{where}[{i}]')
        return out
    if want == have and type(want) is type(have):
        return []
    return [f'{where}: snapshot {json.dumps(want)[:200]} != now {json.dumps(have)[:200]}']


def test_differences_name_the_keys():
    want = dict(a=1, b=[1, dict(c=2)], d=dict(e=3), t={'__tuple__': [1, 2]})
    have = dict(a=1.5, b=[1, dict(c=3)], f=0, t=[1, 2])
    assert differences(want, want) == []
    assert differences(want, have) == [
        'a: snapshot 1 != now 1.5', 'b[1].c: snapshot 2 != now 3',
        'd: only in the snapshot', 'f: not in the snapshot',
        't: snapshot {"__tuple__": [1, 2]} != now [1, 2]']


def test_every_config_has_a_snapshot_and_every_snapshot_a_config():
    missing = [p for p in CONFIGS if not osp.isfile(make_snapshot.snapshot_file(p))]
    assert not missing, (f'configs without a snapshot: {missing}; for a new config run '
                         f'`{REGENERATE} {" ".join(missing)}` and commit the files')
    stale = make_snapshot.stale_snapshots(CONFIGS)
    assert not stale, (f'snapshots of configs that do not exist: {stale}; delete them (or '
                       f'run `{REGENERATE}`, which does) with the removal of the config')


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p[len('configs/'):-len('.py')])
def test_config_resolves_to_its_snapshot(path):
    snapshot = make_snapshot.snapshot_file(path)
    if not osp.isfile(snapshot):
        pytest.skip('no snapshot (reported by the test above)')
    with open(snapshot, encoding='utf-8') as f:
        want = json.load(f)
    have = json.loads(make_snapshot.dumps(make_snapshot.resolved_config(path)))
    diff = differences(want, have)
    listed = '\n  '.join(diff[:MAX_LISTED])
    more = f'\n  (+{len(diff) - MAX_LISTED} more)' if len(diff) > MAX_LISTED else ''
    assert not diff, (
        f'{path} no longer resolves to {osp.relpath(snapshot, make_snapshot.REPO)}:\n  '
        f'{listed}{more}\nA refactoring of configs/ must leave every resolved config '
        f'as it was. If the change is deliberate, run `{REGENERATE} {path}` and commit '
        'the snapshot with it.')
