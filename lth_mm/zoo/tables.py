# Copyright (c) lth_mm authors. All rights reserved.
"""The markdown tables of configs/README.md: rendered from the zoo rows, and checked."""
import re

from .configs import FAMILIES

COLUMNS = ('Config', 'Backbone', 'Setting', 'Target sparsity (prunable)',
           'Network sparsity', 'Paper (anchor)', 'Our result')
_ROW_RE = re.compile(r'^\|\s*\[([^\]]+)\]\(([^)]+)\)\s*\|')


def _cell(text):
    return str(text).replace('|', '\\|')


def render_tables(rows):
    """Markdown: one ``###`` section with a table per family.

    Args:
        rows (list[dict]): :func:`~lth_mm.zoo.zoo_rows`.

    Returns:
        str: the tables, as configs/README.md holds them.
    """
    out = []
    for family, title in FAMILIES.items():
        fam = [r for r in rows if r['family'] == family]
        if not fam:
            continue
        out += [f'### {title}', '']
        out.append('| ' + ' | '.join(COLUMNS) + ' |')
        out.append('|' + '|'.join('---' for _ in COLUMNS) + '|')
        for r in fam:
            link = f"[{r['name']}]({family}/{r['name']}.py)"
            cells = [link, r['backbone'], r['setting'], r['target'], r['network'],
                     r['paper'], r['ours']]
            out.append('| ' + ' | '.join(_cell(c) for c in cells) + ' |')
        out.append('')
    return '\n'.join(out)


def parse_readme_rows(text):
    """Config rows of the README tables.

    Args:
        text (str): the README.

    Returns:
        tuple[dict, list]: ``{name: {'path', 'target', 'network', 'paper'}}`` and the
        names seen more than once.
    """
    rows, dups = {}, []
    for line in text.splitlines():
        m = _ROW_RE.match(line.strip())
        if not m:
            continue
        cells = [c.strip() for c in re.split(r'(?<!\\)\|', line.strip())[1:-1]]
        if len(cells) < len(COLUMNS) - 1:
            continue
        name = m.group(1)
        if name in rows:
            dups.append(name)
        rows[name] = dict(
            path=m.group(2), target=cells[COLUMNS.index('Target sparsity (prunable)')],
            network=cells[COLUMNS.index('Network sparsity')],
            paper=cells[COLUMNS.index('Paper (anchor)')].replace('\\|', '|'))
    return rows, dups


def check_readme(readme_path, rows):
    """Differences between the README tables and the computed rows.

    Args:
        readme_path (str): the README.
        rows (list[dict]): the computed rows; a row's ``paper`` is compared when it has one.

    Returns:
        list[str]: one message per difference (empty: they agree).
    """
    with open(readme_path, encoding='utf-8') as f:
        seen, dups = parse_readme_rows(f.read())
    errors = [f'{n}: listed more than once' for n in dups]
    for r in rows:
        got = seen.pop(r['name'], None)
        if got is None:
            errors.append(f"{r['name']}: missing from {readme_path}")
            continue
        want_path = f"{r['family']}/{r['name']}.py"
        if got['path'] != want_path:
            errors.append(f"{r['name']}: links to {got['path']}, not {want_path}")
        for key in ('target', 'network', 'paper'):
            if key in r and got[key] != r[key]:
                errors.append(f"{r['name']}: README says {key} {got[key]}, the config "
                              f"gives {r[key]}")
    for name in seen:
        errors.append(f'{name}: in {readme_path} but no such config in the zoo')
    return errors
