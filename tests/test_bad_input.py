"""Bad input: at every entry point, one clear error before any work, nothing overwritten.

The rows come from tests/bad_inputs_tools.py (the tools) and tests/bad_inputs_lottery.py
(the ``lottery`` config keys); the format and the check are tests/_bad_input.py's. The
"Common errors" page (docs/common_errors.md) is generated from the same rows.
"""
import os.path as osp

import pytest

import bad_inputs_lottery
import bad_inputs_tools
from _bad_input import render_table, table_in_doc, tree_digest

ROWS = bad_inputs_tools.ROWS + bad_inputs_lottery.ROWS
DOC = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'docs', 'common_errors.md')
REGENERATE = ('.venv/bin/python -c "import sys; sys.path.insert(0, \'tests\'); '
              'import test_bad_input as t, _bad_input as b; b.write_table(t.DOC, t.ROWS)"')


def _message(excinfo, capsys) -> str:
    """What the user sees: a tool's exit message and output, or the exception."""
    out = capsys.readouterr()
    err = excinfo.value
    if isinstance(err, SystemExit):
        assert err.code not in (None, 0), f'exited with status {err.code!r}'
        text = err.code if isinstance(err.code, str) else ''
    else:
        text = f'{type(err).__name__}: {err}'
    return '\n'.join((text, out.out, out.err))


def test_rows_are_unique_and_enough():
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), 'row ids repeat'
    assert len(bad_inputs_tools.ROWS) >= 30


@pytest.mark.parametrize('row', ROWS, ids=[row.id for row in ROWS])
def test_bad_input_is_one_clear_error(row, tmp_path, capsys):
    if row.setup is not None:
        row.setup(tmp_path)
    before = tree_digest(str(tmp_path))
    with pytest.raises((Exception, SystemExit)) as excinfo:
        row.run(tmp_path)
    message = _message(excinfo, capsys)
    assert row.match.lower() in message.lower(), message
    assert tree_digest(str(tmp_path)) == before, 'files changed, removed or written'


def test_common_errors_page_is_the_table():
    with open(DOC) as f:
        text = f.read()
    assert table_in_doc(text) == render_table(ROWS), (
        f'docs/common_errors.md is out of date with the bad-input rows; regenerate it:\n'
        f'{REGENERATE}')
