"""Every fenced code block of the Markdown that ships with lth_mm is checked.

The documents: README.md and every other ``*.md`` of the checkout (docs/, configs/**/README.md,
...), except run outputs and caches (work_dirs/, data/, .venv/, tests/fixtures/, lth_mm/.mim/).
Each block needs a language tag; what is checked depends on it:

* ``python`` made of assignments only (a config, or a config fragment): each config of the
  block (a new one starts at every ``_base_ =``) is written into a mirror of configs/ (real
  folders of symlinks to the repository's files) and loaded with ``Config.fromfile``, with
  lth_mm imported so that ``lth_mm::`` bases resolve. Where it is written: at the path that
  a comment line of the config names (``# configs/mask_rcnn/x.py``; the next config of the
  block may then inherit it as ``./x.py``), else in the folder named by a marker
  ``<!-- doc-test: config at configs/transfer/ -->`` on the line before the block, else
  (only ``pkg::`` or no bases) anywhere. Then its ``lottery`` block must be valid
  (``LotterySettings``), its ``custom_hooks`` registered, and where it names a config of the
  repository, every key the block sets must have that file's value.
* ``python`` with imports or calls (API examples): compiled, and its imports run (the rest
  needs the user's files: checkpoints, images, work_dirs).
* ``bash`` / ``shell`` / ``sh`` / ``console`` (``$ `` lines only): each command line
  (backslash continuations joined, ``# comments`` dropped) is checked:
  ``python tools/X.py ...`` and ``mim train|test lth_mm ...`` (= tools/train.py,
  tools/test.py): the script exists, its ``--help`` (of the sub-command, if the first
  argument is one) exits 0 and lists every ``--option`` the line uses (``[--a|--b]``
  optional parts included; for ``mim``, less mim's own launch options);
  ``bash tools/X.sh ...`` (dist_*/slurm_* launches): the script exists and ``bash -n``
  passes - the launch itself needs several GPUs or a cluster and is not run;
  ``make T``: T is a target of the Makefile. Every argument that is a repository path
  (``configs/``, ``tools/``, ``docs/``, ``requirements/``, ``tests/``) must exist. Not
  checked: arguments the user provides (``work_dirs/...``, CONFIG, checkpoints), and
  ``pip install`` / ``mim install`` / ``python setup.py`` lines (they install packages) and
  ``mim search`` (tests/test_mim.py runs it). Any other command fails the test, so that a
  new kind of line is either taught here or marked.
* ``text`` (program output, trees, tables): nothing to run.
* A marker ``<!-- doc-test: skip (reason) -->`` before a block skips it, with its reason.

Failures name the document and line: ``docs/transfer.md:25: ...``.
"""
import ast
import functools
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Not user documentation: run outputs, caches, environments, test inputs, the package's
# copies of configs/ and tools/ for mim.
_NOT_DOCS = {'.git', '.venv', 'work_dirs', 'data', 'build', 'dist', '.pytest_cache',
             'tests/fixtures', 'lth_mm/.mim'}
_FENCE = re.compile(r'^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$')
_MARKER = re.compile(r'^\s*<!--\s*doc-test:\s*(?P<what>.*?)\s*-->\s*$')
_SHELL = {'bash', 'shell', 'sh', 'console'}
_TEXT = {'text', 'txt', 'output', 'log'}
_REPO_PATH = re.compile(r'^(configs|tools|docs|requirements|tests)/')
# `mim train/test` options that mim itself consumes (the rest go to tools/train.py / test.py).
_MIM_OPTIONS = {'--gpus', '--gpus-per-node', '--cpus-per-task', '--partition', '--launcher',
                '--port', '--srun-args', '--checkpoint', '-y', '--yes'}


def doc_files(root=REPO):
    """The Markdown files users read, relative to ``root``, sorted."""
    found = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root)
        dirs[:] = [d for d in dirs if (rel / d).as_posix() not in _NOT_DOCS
                   and not d.endswith('.egg-info') and d != '__pycache__']
        found += [(rel / f).as_posix() for f in files if f.endswith('.md')]
    return sorted(found)


def code_blocks(doc, text):
    """The fenced blocks of one Markdown text.

    Args:
        doc (str): the document's name, for messages.
        text (str): its content.

    Returns:
        list[dict]: ``doc``, ``line`` (1-based line of the opening fence), ``lang``
        (lower case, '' when untagged), ``marker`` (text of a ``doc-test:`` comment on the
        line before, or None), ``text`` (the content, the fence's indent removed) and
        ``closed`` (False when the document ends inside the block).
    """
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m['fence'], len(m['indent'])
        prev = next((ln for ln in reversed(lines[:i]) if ln.strip()), '')
        marker = _MARKER.match(prev)
        body, j = [], i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                      and not lines[j].strip().strip(fence[0])):
            line = lines[j]
            body.append(line[indent:] if not line[:indent].strip() else line.lstrip())
            j += 1
        info = m['info'].strip().split()
        blocks.append(dict(doc=doc, line=i + 1, lang=info[0].lower() if info else '',
                           marker=marker['what'] if marker else None,
                           text='\n'.join(body) + '\n', closed=j < len(lines)))
        i = j + 1
    return blocks


def all_blocks():
    """Every code block of every document, in file order."""
    return [b for doc in doc_files()
            for b in code_blocks(doc, (REPO / doc).read_text(encoding='utf-8'))]


def block_kind(block):
    """'config', 'code', 'shell', 'text', 'skip' or 'untagged' (see the module docstring)."""
    if block['marker'] and block['marker'].startswith('skip'):
        return 'skip'
    lang = block['lang']
    if lang in ('python', 'py'):
        try:
            tree = ast.parse(block['text'])
        except SyntaxError:
            return 'code'  # the check reports the syntax error
        return 'config' if all(isinstance(s, (ast.Assign, ast.AnnAssign))
                               for s in tree.body) else 'code'
    if lang in _SHELL:
        return 'shell'
    return 'text' if lang in _TEXT else 'untagged' if not lang else lang


# ---------------------------------------------------------------------------- shell lines


def shell_commands(block):
    """(line number, command text) of each command of a shell block."""
    out, pending, start = [], '', None
    for k, line in enumerate(block['text'].splitlines()):
        if block['lang'] == 'console':
            if not (line.startswith('$ ') or pending):
                continue
            line = line[2:] if line.startswith('$ ') else line
        if not pending and (not line.strip() or line.lstrip().startswith('#')):
            continue
        start = start if pending else block['line'] + 1 + k
        pending += line.rstrip()
        if pending.endswith('\\'):
            pending = pending[:-1] + ' '
            continue
        out.append((start, pending))
        pending = ''
    if pending:
        out.append((start, pending))
    return out


@functools.lru_cache(maxsize=None)
def _run(*argv):
    """(exit status, stdout + stderr) of a command run in the repository, once per argv."""
    env = dict(os.environ, OMP_NUM_THREADS='1', NO_ALBUMENTATIONS_UPDATE='1')
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=env,
                          timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def _script_help(script, args):
    """(exit status, help text) of ``python script [sub-command] --help``."""
    rc, out = _run(sys.executable, script, '--help')
    subs = re.search(r'\{([\w,-]+)\}', out)
    positional = [a for a in args if not a.startswith('-')]
    if rc == 0 and subs and positional and positional[0] in subs[1].split(','):
        rc, out = _run(sys.executable, script, positional[0], '--help')
    return rc, out


def _doc_options(args):
    """The ``--options`` a documented line uses (``[--a|--b]`` and ``--a=1`` included)."""
    opts = []
    for arg in args:
        for part in arg.strip('[]').split('|'):
            part = part.strip('[]').split('=')[0]
            if re.fullmatch(r'--?[A-Za-z][\w-]*', part):
                opts.append(part)
    return opts


def _check_python_tool(script, args, skip_options=()):
    if not (REPO / script).is_file():
        return [f'{script} does not exist']
    rc, out = _script_help(script, args)
    if rc != 0:
        return [f'`python {script} --help` exited {rc}:\n{out[-2000:]}']
    listed = set(re.findall(r'(?<![\w-])(--?[A-Za-z][\w-]*)', out))
    return [f'{script} has no option {o} (its --help lists {sorted(listed)})'
            for o in _doc_options(args) if o not in listed and o not in skip_options]


@functools.lru_cache(maxsize=None)
def make_targets():
    """The targets of the repository's Makefile."""
    text = (REPO / 'Makefile').read_text()
    return set(re.findall(r'^([\w.-]+)\s*:(?!=)', text, flags=re.M))


def check_command(tokens):
    """Problems of one documented command line, [] when it is fine.

    Args:
        tokens (list[str]): the line split as a shell does (comments dropped).

    Returns:
        list[str] | str: the problems, or 'skip: <why>' for lines that are not checked.
    """
    while tokens and re.fullmatch(r'[A-Z_][A-Z0-9_]*=\S*', tokens[0]):
        tokens = tokens[1:]  # VAR=value prefixes
    if not tokens:
        return []
    cmd = tokens[0].rsplit('/', 1)[-1] if tokens[0].startswith('.venv/bin/') else tokens[0]
    args = tokens[1:]
    problems = [f'{a} does not exist' for a in (t.strip('[]').split('=')[-1] for t in args)
                if _REPO_PATH.match(a) and not (REPO / a).exists()]
    if cmd in ('python', 'python3') and args and args[0] == 'setup.py':
        return 'skip: installs the package'
    if cmd in ('python', 'python3') and args and args[0].endswith('.py'):
        return problems + _check_python_tool(args[0], args[1:])
    if cmd == 'mim' and args[:1] in (['train'], ['test']) and args[1:2] == ['lth_mm']:
        return problems + _check_python_tool(f'tools/{args[0]}.py', args[2:], _MIM_OPTIONS)
    if cmd == 'mim' and args[:1] in (['search'], ['install']):
        return f'skip: mim {args[0]} (installs, or is run by tests/test_mim.py)'
    if cmd == 'pip':
        return 'skip: installs packages'
    if cmd in ('bash', 'sh') or cmd.endswith('.sh'):
        script = args[0] if cmd in ('bash', 'sh') else cmd
        if not (REPO / script).is_file():
            return problems + [f'{script} does not exist']
        rc, out = _run('bash', '-n', script)
        return problems + ([f'`bash -n {script}` exited {rc}: {out}'] if rc else [])
    if cmd == 'make':
        return problems + [f'the Makefile has no target {t}' for t in args
                           if not t.startswith('-') and t not in make_targets()]
    return problems + [f'unknown command `{cmd}`: teach tests/test_docs.py to check it, '
                       'or mark the block <!-- doc-test: skip (reason) -->']


def check_shell(block):
    """(problems, skipped lines) of a shell block; each problem names its line."""
    problems, skipped = [], []
    for line, text in shell_commands(block):
        where = f'{block["doc"]}:{line}'
        try:
            tokens = shlex.split(text, comments=True)
        except ValueError as e:
            problems.append(f'{where}: cannot split `{text}`: {e}')
            continue
        found = check_command(tokens)
        if isinstance(found, str):
            skipped.append(f'{where}: {found}')
        else:
            problems += [f'{where}: {p}' for p in dict.fromkeys(found)]  # once each
    return problems, skipped


# ---------------------------------------------------------------------------- python


def config_segments(block):
    """(line offset, text) of each config of a config block: one per ``_base_ =``, with
    the comment lines just above it."""
    lines = block['text'].splitlines()
    starts = [s.lineno - 1 for s in ast.parse(block['text']).body
              if isinstance(s, ast.Assign)
              and any(getattr(t, 'id', None) == '_base_' for t in s.targets)]
    cuts = [0]
    for s in starts[1:]:
        while s > 0 and lines[s - 1].lstrip().startswith('#'):
            s -= 1
        cuts.append(s)
    return [(a, '\n'.join(lines[a:b]) + '\n') for a, b in zip(cuts, cuts[1:] + [len(lines)])]


def _mirror(root, files):
    """Write ``files`` ({path relative to the repository: text}) under ``root``, with every
    other entry of their folders (up to the top) a symlink to the repository's."""
    real = {Path(p).parents[k].as_posix() for p in files for k in range(len(Path(p).parents))}
    for folder in sorted(real):
        (root / folder).mkdir(parents=True, exist_ok=True)
        source = REPO / folder
        for entry in (source.iterdir() if source.is_dir() else []):
            rel = (Path(folder) / entry.name).as_posix()
            if rel not in real and rel not in files and not (root / rel).exists():
                (root / rel).symlink_to(entry)
    for path, text in files.items():
        (root / path).write_text(text)


def check_config_block(block, tmp_path):
    """Problems of a config block (see the module docstring), each naming its line."""
    import lth_mm  # noqa: F401  (registers lth_mm's modules; lth_mm:: bases)
    from mmengine.config import Config
    from mmengine.registry import HOOKS
    from lth_mm.zoo import lottery_settings, memoized_external_bases
    marker = block['marker'] or ''
    folder = marker[len('config at '):].strip().strip('/') if marker.startswith(
        'config at ') else None
    if block['marker'] and folder is None:
        return [f'{block["doc"]}:{block["line"]}: unknown marker `{marker}`']
    files, checks, problems = {}, [], []
    for k, (offset, text) in enumerate(config_segments(block)):
        where = f'{block["doc"]}:{block["line"] + 1 + offset}'
        named = re.search(r'^\s*#\s*(configs/\S+?\.py)\b', text, flags=re.M)
        relative = any(isinstance(c, ast.Constant) and str(c.value).startswith('.')
                       for node in ast.parse(text).body if isinstance(node, ast.Assign)
                       and any(getattr(t, 'id', None) == '_base_' for t in node.targets)
                       for c in ast.walk(node.value))
        if named:
            path = named[1]
        elif folder or not relative:
            path = f'{folder or "configs"}/doc_{Path(block["doc"]).stem}_{block["line"]}_{k}.py'
        else:
            problems.append(f'{where}: relative _base_ but no location: name the file in a '
                            'comment or add <!-- doc-test: config at configs/DIR/ -->')
            continue
        files[path] = text
        checks.append((where, path, named is not None and (REPO / path).is_file(), text))
    _mirror(tmp_path, files)
    with memoized_external_bases():
        for where, path, is_repo_file, text in checks:
            try:
                cfg = Config.fromfile(str(tmp_path / path))
                if 'lottery' in cfg:
                    lottery_settings(cfg)
            except Exception as e:  # noqa: BLE001  (any failure is the doc's problem)
                problems.append(f'{where}: {type(e).__name__}: {e}')
                continue
            problems += [f'{where}: custom hook {h.get("type")} is not registered'
                         for h in cfg.get('custom_hooks', []) if HOOKS.get(h.get('type')) is None]
            if is_repo_file:
                shown = Config.fromfile(str(REPO / path))
                keys = {t.id for s in ast.parse(text).body if isinstance(s, ast.Assign)
                        for t in s.targets if isinstance(t, ast.Name)} - {'_base_'}
                problems += [f'{where}: {key} differs from {path}: the doc gives {cfg[key]}, '
                             f'the file {shown.get(key)}'
                             for key in sorted(keys) if cfg[key] != shown.get(key)]
    return problems


def check_code_block(block):
    """Problems of a Python example: it must compile and its imports must run."""
    where = f'{block["doc"]}:{block["line"]}'
    try:
        tree = ast.parse(block['text'], filename=where)
        compile(tree, where, 'exec')
    except SyntaxError as e:
        return [f'{block["doc"]}:{block["line"] + (e.lineno or 0)}: {e.msg}']
    problems = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            try:
                exec(compile(ast.Module([node], []), where, 'exec'), {})
            except Exception as e:  # noqa: BLE001
                problems.append(f'{block["doc"]}:{block["line"] + node.lineno}: '
                                f'{type(e).__name__}: {e}')
    return problems


# ---------------------------------------------------------------------------- the tests

BLOCKS = all_blocks()
CHECKED = [b for b in BLOCKS if block_kind(b) != 'text']


@pytest.mark.parametrize('block', CHECKED,
                         ids=[f'{b["doc"]}:{b["line"]}-{block_kind(b)}' for b in CHECKED])
def test_doc_block(block, tmp_path):
    where = f'{block["doc"]}:{block["line"]}'
    assert block['closed'], f'{where}: the block is never closed'
    kind = block_kind(block)
    if kind == 'skip':
        reason = block['marker'][len('skip'):].strip(' ()')
        assert reason, f'{where}: a skip marker needs a reason: doc-test: skip (why)'
        pytest.skip(f'{where}: {reason}')
    if kind == 'untagged':
        pytest.fail(f'{where}: untagged block: say what it is (```python, ```bash, or '
                    '```text for output)')
    if kind == 'config':
        problems = check_config_block(block, tmp_path)
    elif kind == 'code':
        problems = check_code_block(block)
    elif kind == 'shell':
        problems, _ = check_shell(block)
    else:
        problems = [f'{where}: no check for ```{kind} blocks: tag it ```text, or teach '
                    'tests/test_docs.py']
    assert not problems, '\n'.join(problems)


def test_the_documents_are_found():
    docs = doc_files()
    assert 'README.md' in docs and 'docs/transfer.md' in docs and 'configs/README.md' in docs
    assert not [d for d in docs if d.startswith(('work_dirs/', 'tests/fixtures/', '.venv/'))]


def test_the_checks_fail_where_they_should(tmp_path):
    """The checker itself: a missing script, path, option or target, an unknown command,
    the config that docs/transfer.md once showed and a config that differs from the file it
    names are each reported with document and line."""
    shell = dict(doc='x.md', line=10, lang='bash', marker=None, text=(
        'python tools/nope.py\n'
        'python tools/train.py configs/nope.py --no-such-option\n'
        'make no-such-target  # a comment\n'
        'mim train lth_mm configs/quickstart/faster-rcnn_r18_fpn_lth-keep20_synthetic.py \\\n'
        '    --gpus 8 --launcher pytorch\n'
        'wget http://example.com/x\n'))
    problems, _ = check_shell(shell)
    assert problems[0] == 'x.md:11: tools/nope.py does not exist'
    assert problems[1] == 'x.md:12: configs/nope.py does not exist'
    assert problems[2].startswith('x.md:12: tools/train.py has no option --no-such-option')
    assert problems[3] == 'x.md:13: the Makefile has no target no-such-target'
    assert problems[4].startswith('x.md:16: unknown command `wget`')
    assert len(problems) == 5  # the mim line (14-15) is fine: --gpus/--launcher are mim's
    old_transfer = dict(doc='y.md', line=3, lang='python', marker='config at configs/transfer/',
                        text=("_base_ = '../faster_rcnn/faster-rcnn_r18_fpn_lth-dense_1x_coco.py'\n"
                              "lottery = dict(transfer=dict(mode='imagenet', source='x.pth'))\n"))
    problems = check_config_block(old_transfer, tmp_path / 'transfer')
    assert len(problems) == 1 and problems[0].startswith('y.md:4: TypeError')
    assert '_delete_=True' in problems[0]
    drifted = dict(doc='z.md', line=1, lang='python', marker=None, text=(
        '# configs/faster_rcnn/faster-rcnn_r18_fpn_lth-keep50-rw1ep_1x_coco.py\n'
        "_base_ = './faster-rcnn_r18_fpn_lth-keep20-rw1ep_1x_coco.py'\n"
        'lottery = dict(keep_ratio=0.3)\n'))
    problems = check_config_block(drifted, tmp_path / 'drifted')
    assert len(problems) == 1 and problems[0].startswith(
        'z.md:2: lottery differs from configs/faster_rcnn/faster-rcnn_r18_fpn_lth-keep50')
