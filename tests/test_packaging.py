# Copyright (c) lth_mm authors. All rights reserved.
"""Packaging and tooling: the install, the mim extension, tools/, Makefile and CI entry point.

Checks that look packages up the way mim and mmengine do run in a fresh interpreter whose
working directory is a temporary folder, never the checkout. The checkout holds
``lth_mm.egg-info``, and pkg_resources, which both tools use, would find it through the
current directory (first on ``sys.path`` under ``python -m pytest``) and report the
checkout as the install location even when the real install could not be found from
anywhere else (a PEP 660 editable install, whose location is site-packages).
"""
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import yaml

PKG = 'lth_mm'
# the lottery defaults every lottery config builds on (written by the configs/ owner)
LOTTERY_BASE = Path('configs') / '_base_' / 'lottery.py'
# what `pip install -e .` must never install, upgrade or downgrade
STACK = {'torch', 'torchvision', 'mmcv', 'mmcv-full', 'mmcv-lite', 'mmengine', 'mmdet', 'mmpose'}
# a flag no tool knows: makes train.py/test.py stop (argparse error) right after mim found them
SELFTEST_FLAG = '--lth-mm-packaging-selftest'


def run_python(code, cwd, timeout=180):
    """Run ``code`` in a fresh interpreter of this environment, in directory ``cwd``."""
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def run_json(code, cwd, timeout=180):
    """Run ``code`` (which prints one JSON document last) and return the parsed document."""
    proc = run_python(code, cwd, timeout)
    assert proc.returncode == 0, f'subprocess failed:\n{proc.stdout}\n{proc.stderr}'
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load_module(path, name):
    """Import a file that is not part of a package (setup.py) by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def req_name(requirement):
    """Project name of a PEP 508 requirement string, normalized (``Foo_bar>=1`` -> foo-bar)."""
    name = re.split(r'[<>=!~;\[ @]', requirement, maxsplit=1)[0]
    return re.sub(r'[-_.]+', '-', name).lower()


def same_path(a, b):
    return Path(a).exists() and Path(b).exists() and os.path.samefile(a, b)


# ---------------------------------------------------------------------------------------
# the installed package


@pytest.fixture(scope='module')
def imported_lth_mm(tmp_path_factory):
    """What a fresh interpreter sees after ``import lth_mm``, and a ``lth_mm::`` config.

    One subprocess for both checks below: importing lth_mm (torch, mmdet, mmpose) is the
    slow part, about 10 s on 2 cores.
    """
    cwd = tmp_path_factory.mktemp('imported_lth_mm')
    (cwd / 'user_cfg.py').write_text(
        "_base_ = ['lth_mm::_base_/lottery.py']\nwork_dir = './my_run'\n")
    return run_json("""
        import importlib.metadata, json, traceback
        import lth_mm
        from mmengine.config import Config
        from mmengine.config.utils import MODULE2PACKAGE
        info = dict(module_version=lth_mm.__version__,
                    dist_version=importlib.metadata.version('lth_mm'),
                    module_file=lth_mm.__file__,
                    registered_by_import=MODULE2PACKAGE.get('lth_mm'))
        import lth_mm.apis  # the path the tools take (then they load the config)
        try:
            cfg = Config.fromfile('user_cfg.py')
            lottery = cfg.get('lottery')
            info.update(is_dict=isinstance(lottery, dict), work_dir=cfg.work_dir,
                        keys=sorted(lottery) if isinstance(lottery, dict) else None)
        except Exception:
            info.update(config_error=traceback.format_exc())
        print(json.dumps(info))
        """, cwd=cwd)


def test_version_matches_installed_distribution(repo_root, imported_lth_mm):
    info = imported_lth_mm
    assert info['module_version'] == info['dist_version']
    namespace = {}
    exec((repo_root / PKG / 'version.py').read_text(), namespace)
    assert info['module_version'] == namespace['__version__']
    # the environment runs this checkout's code (editable install), not a stale copy
    assert Path(info['module_file']).resolve().parent == repo_root / PKG


def test_mim_extension_points_at_checkout(repo_root, tmp_path):
    info = run_json("""
        import json, warnings
        warnings.simplefilter('ignore')  # pkg_resources deprecation noise
        from mim.utils import get_installed_path as mim_path, module_full_name
        from mmengine.utils import get_installed_path as mmengine_path
        print(json.dumps(dict(mim=mim_path('lth_mm'), mmengine=mmengine_path('lth_mm'),
                              full_name=module_full_name('lth_mm'))))
        """, cwd=tmp_path)
    assert info['full_name'] == PKG
    hint = ('mim/mmengine locate lth_mm at {} (from pkg_resources), which is not this '
            'checkout\'s package: a PEP 660 `pip install -e .` puts the location at '
            'site-packages. Reinstall with `make setup` (uses `python setup.py develop`).')
    for tool in ('mim', 'mmengine'):
        assert same_path(info[tool], repo_root / PKG), hint.format(info[tool])
    mim_dir = repo_root / PKG / '.mim'
    # model-index.yml: mmengine reads it before any `lth_mm::` base path (missing = error)
    for name in ('configs', 'tools', 'model-index.yml'):
        assert (mim_dir / name).exists(), f'{mim_dir / name} missing: run `make setup`'
        assert same_path(mim_dir / name, repo_root / name)
    if (mim_dir / 'configs').is_symlink():  # editable install: relative links
        assert not os.path.isabs(os.readlink(mim_dir / 'configs'))


def test_gitignore_covers_mim_dir(repo_root):
    lines = (repo_root / '.gitignore').read_text().split()
    assert any(line.strip('/') in ('lth_mm/.mim', '.mim') for line in lines)


def test_model_index_imports_every_metafile(repo_root):
    """model-index.yml lists each configs/**/metafile.yml, and each one is usable.

    mmengine loads all of them for every ``lth_mm::`` lookup: a metafile without a
    ``Models`` list breaks ``_base_ = ['lth_mm::...']`` for every config.
    """
    index = yaml.safe_load((repo_root / 'model-index.yml').read_text())
    imported = sorted(index['Import'])
    on_disk = sorted(str(p.relative_to(repo_root))
                     for p in (repo_root / 'configs').rglob('metafile.yml'))
    assert imported == on_disk, 'model-index.yml `Import` and configs/**/metafile.yml differ'
    for metafile in imported:
        models = yaml.safe_load((repo_root / metafile).read_text()).get('Models')
        assert isinstance(models, list) and models, f'{metafile}: no `Models` list'
        for model in models:
            assert (repo_root / model['Config']).is_file(), f'{metafile}: {model["Config"]}'


def test_package_prefix_base_config_resolves(repo_root, imported_lth_mm):
    """A config anywhere on disk can build on ``lth_mm::`` base configs.

    mmengine only resolves ``<pkg>::`` for packages in its hard-coded ``MODULE2PACKAGE``
    table, so ``import lth_mm`` has to add itself before the config is loaded (our
    tools/train.py and test.py import lth_mm first for that reason).
    """
    assert (repo_root / LOTTERY_BASE).is_file(), f'{LOTTERY_BASE} is missing'
    info = imported_lth_mm
    assert 'config_error' not in info, info.get('config_error')
    assert info['is_dict'], 'configs/_base_/lottery.py does not define a `lottery` dict'
    assert info['keys'], '`lottery` is empty'
    assert info['work_dir'] == './my_run'
    assert info['registered_by_import'] == 'lth_mm', (
        "`import lth_mm` must add itself to mmengine.config.utils.MODULE2PACKAGE "
        "(MODULE2PACKAGE.setdefault('lth_mm', 'lth_mm') in lth_mm/__init__.py), otherwise "
        "`_base_ = ['lth_mm::...']` fails outside our tools")


def test_mim_lookup_finds_configs_and_tools(repo_root, tmp_path):
    """The steps `mim train` / `mim test` take to find a config by name and the scripts."""
    assert (repo_root / LOTTERY_BASE).is_file(), f'{LOTTERY_BASE} is missing'
    named_configs = sorted(
        p.name for p in (repo_root / 'configs').rglob('*.py') if '_base_' not in p.parts)
    info = run_json(f"""
        import json, os.path as osp, warnings
        warnings.simplefilter('ignore')
        from mim.utils import get_installed_path, is_installed, recursively_find
        root = get_installed_path('lth_mm')
        find = lambda name: [osp.realpath(f) for f in recursively_find(root, name,
                                                                     followlinks=True)]
        print(json.dumps(dict(
            installed=is_installed('lth_mm'),
            lottery=find('lottery.py'),
            named={{name: find(name) for name in {named_configs!r}}},
            train=osp.join(root, '.mim', 'tools', 'train.py'),
            test=osp.join(root, '.mim', 'tools', 'test.py'))))
        """, cwd=tmp_path)
    assert info['installed']
    assert info['lottery'] == [str((repo_root / LOTTERY_BASE).resolve())]
    # `mim train lth_mm <name>.py` needs the basename to be unique inside the package
    ambiguous = {name: files for name, files in info['named'].items() if len(files) != 1}
    assert not ambiguous, f'configs mim cannot pick by name: {ambiguous}'
    assert same_path(info['train'], repo_root / 'tools' / 'train.py')
    assert same_path(info['test'], repo_root / 'tools' / 'test.py')


@pytest.mark.parametrize('command', ['train', 'test'])
def test_mim_cli_reaches_our_tools(repo_root, tmp_path, command):
    """`mim train|test lth_mm lottery.py` resolve the config and run our script.

    The unknown flag stops the script at argument parsing, so nothing is trained.
    """
    mim = Path(sys.executable).with_name('mim')
    assert mim.exists(), f'{mim} not found: openmim is not installed in this environment'
    cmd = [str(mim), command, PKG, 'lottery.py', SELFTEST_FLAG]
    if command == 'test':
        cmd[4:4] = ['--checkpoint', 'no_such.pth']
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert f'will use {(repo_root / LOTTERY_BASE).resolve()} instead' in out, out
    match = re.search(r'(?:Training|Testing) command is (\S+) (\S+) ', out)
    assert match, out
    assert same_path(match.group(2), repo_root / 'tools' / f'{command}.py'), out
    assert f'unrecognized arguments: {SELFTEST_FLAG}' in out, out


# ---------------------------------------------------------------------------------------
# setup.py


def test_setup_py_version(repo_root):
    proc = subprocess.run([sys.executable, 'setup.py', '--version'], cwd=repo_root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    namespace = {}
    exec((repo_root / PKG / 'version.py').read_text(), namespace)
    assert proc.stdout.strip().splitlines()[-1] == namespace['__version__']


def test_setup_py_requirements_and_extras(repo_root, tmp_path):
    """Extras as setuptools records them (egg_info), without the heavy stack in runtime."""
    proc = subprocess.run(
        [sys.executable, 'setup.py', '-q', 'egg_info', '--egg-base', str(tmp_path)],
        cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    sections, current = {}, ''
    requires = tmp_path / f'{PKG}.egg-info' / 'requires.txt'
    for line in requires.read_text().splitlines():
        if line.startswith('['):
            current = line.strip('[]').split(':')[0]
        elif line.strip():
            sections.setdefault(current, set()).add(req_name(line))

    setup = load_module(repo_root / 'setup.py', 'lth_mm_setup')
    runtime = {req_name(r) for r in setup.parse_requirements('requirements/runtime.txt')}
    assert runtime and sections[''] == runtime
    assert not runtime & STACK, 'install_requires must not pull torch or the OpenMMLab stack'
    assert {'all', 'tests', 'optional', 'mim'} <= set(sections)
    assert {'mmengine', 'mmcv', 'mmdet', 'mmpose'} <= sections['mim']
    assert sections['tests'] | sections['optional'] | runtime <= sections['all']
    assert 'pytest' in sections['tests']


def test_parse_requirements_helper(repo_root, tmp_path):
    setup = load_module(repo_root / 'setup.py', 'lth_mm_setup')
    (tmp_path / 'base.txt').write_text('numpy>=1.20  # arrays\n')
    (tmp_path / 'main.txt').write_text(textwrap.dedent("""\
        # a comment
        -r base.txt
        mmcv>=2.0.0,<2.2.0

        pillow; python_version >= "3.8"
        --index-url https://example.invalid/simple
        """))
    path = str(tmp_path / 'main.txt')
    assert setup.parse_requirements(path) == [
        'numpy>=1.20', 'mmcv>=2.0.0,<2.2.0', 'pillow; python_version >= "3.8"']
    assert setup.parse_requirements(path, with_version=False) == [
        'numpy', 'mmcv', 'pillow;python_version >= "3.8"']
    assert setup.parse_requirements(str(tmp_path / 'absent.txt')) == []
    # mim extra is the real list, specifiers included
    assert any(r.startswith('mmcv>=') for r in setup.parse_requirements(
        'requirements/mminstall.txt'))


@pytest.mark.parametrize('argv, mode', [
    (['setup.py', 'develop', '--no-deps'], 'symlink'),
    (['setup.py', 'editable_wheel', '--dist-dir', 'x'], 'symlink'),  # PEP 660 pip -e
    (['setup.py', 'bdist_wheel', '--dist-dir', 'x'], 'copy'),
    (['setup.py', 'sdist'], 'copy'),
    (['setup.py', 'egg_info'], None),
    (['setup.py', 'dist_info', '--output-dir', 'x'], None),
    (['setup.py', '--version'], None),
])
def test_mim_extension_mode(repo_root, argv, mode):
    setup = load_module(repo_root / 'setup.py', 'lth_mm_setup')
    if mode == 'symlink' and sys.platform == 'win32':
        mode = 'copy'
    assert setup._mim_mode(argv) == mode


def test_wheel_carries_configs_and_tools(repo_root, tmp_path):
    """A (non-editable) wheel ships copies of configs/ and tools/ under lth_mm/.mim/.

    Built from a copy of the sources: a wheel build replaces the checkout's .mim links
    with copies, as mmdet's does.
    """
    src = tmp_path / 'src'
    skip = shutil.ignore_patterns('.mim', '__pycache__', '*.pyc', '*.egg-info')
    for name in (PKG, 'configs', 'tools', 'requirements'):
        shutil.copytree(repo_root / name, src / name, ignore=skip)
    for name in ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml'):
        if (repo_root / name).exists():
            shutil.copy(repo_root / name, src / name)
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation',
         '--no-index', '-w', str(tmp_path / 'dist'), str(src)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / 'dist').glob('lth_mm-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [f'{PKG}/.mim/model-index.yml',
                f'{PKG}/.mim/tools/train.py', f'{PKG}/.mim/tools/test.py',
                f'{PKG}/.mim/tools/dist_train.sh', f'{PKG}/.mim/tools/launch_common.sh',
                f'{PKG}/.mim/configs/_base_/lottery.py']
    index = yaml.safe_load((repo_root / 'model-index.yml').read_text())
    expected += [f'{PKG}/.mim/{path}' for path in index['Import']]
    assert not [n for n in expected if n not in names], sorted(names)
    metainfo = sorted((repo_root / PKG / 'datasets' / 'metainfo').glob('*.py'))
    for path in metainfo:
        assert f'{PKG}/datasets/metainfo/{path.name}' in names
    assert not any(n.startswith(('tests/', 'configs/', 'tools/')) for n in names)
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith('.dist-info/METADATA'))).decode()
    hard = {req_name(line.split(':', 1)[1].strip()) for line in metadata.splitlines()
            if line.startswith('Requires-Dist:') and 'extra ==' not in line}
    assert not hard & STACK


# ---------------------------------------------------------------------------------------
# tools/


@pytest.mark.parametrize('tool, options', [
    ('train.py', ['config', '--work-dir', '--cfg-options', '--resume', '--amp',
                  '--auto-scale-lr', '--launcher', '--local_rank', '--local-rank']),
    ('test.py', ['config', 'checkpoint', '--work-dir', '--out', '--show-dir',
                 '--cfg-options', '--launcher', '--tta', '--local-rank']),
])
def test_tool_help(repo_root, tool, options):
    proc = subprocess.run([sys.executable, str(repo_root / 'tools' / tool), '--help'],
                          cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    missing = [o for o in options if o not in proc.stdout]
    assert not missing, proc.stdout
    # `mim train` appends `--gpus N` to the command whenever the help mentions it
    assert '--gpus' not in proc.stdout
    assert 'none,pytorch,slurm,mpi' in proc.stdout


def test_every_tool_help_exits_zero(repo_root):
    """`--help` of every script under tools/ works (and reports the slowest: they parse
    their arguments before importing lth_mm, torch or mmengine)."""
    scripts = sorted(p for p in (repo_root / 'tools').rglob('*.py')
                     if '__pycache__' not in p.parts and not p.name.startswith('_'))
    assert scripts
    took, failed = {}, []
    for script in scripts:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script), '--help'], cwd=repo_root,
                              capture_output=True, text=True, timeout=120)
        took[script.relative_to(repo_root)] = time.perf_counter() - start
        if proc.returncode != 0 or 'usage' not in proc.stdout:
            failed.append(f'{script.relative_to(repo_root)}: exit {proc.returncode}\n'
                          f'{proc.stderr[-2000:]}')
    slowest = sorted(took.items(), key=lambda kv: -kv[1])[:5]
    print('slowest --help:', ', '.join(f'{p} {s:.2f} s' for p, s in slowest))
    assert not failed, '\n'.join(failed)


@pytest.fixture
def no_local_rank(monkeypatch):
    """LOCAL_RANK unset, and restored after the test."""
    monkeypatch.delenv('LOCAL_RANK', raising=False)


def _cfg(**kwargs):
    from mmengine.config import Config
    base = dict(default_scope='mmdet',
                optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02)))
    base.update(kwargs)
    return Config(base)


def test_train_options_work_dir_resume_and_cfg_options():
    from lth_mm.apis import apply_train_options, parse_cfg_options
    cfg = apply_train_options(_cfg(), 'configs/x/my_cfg.py')
    assert cfg.work_dir == os.path.join('./work_dirs', 'my_cfg')
    assert cfg.launcher == 'none' and 'resume' not in cfg

    options = parse_cfg_options(['train_cfg.max_epochs=3'])
    cfg = apply_train_options(_cfg(work_dir='from_cfg'), 'my_cfg.py', work_dir='wd',
                              resume='auto', cfg_options=options)
    assert (cfg.work_dir, cfg.resume, cfg.load_from) == ('wd', True, None)
    assert cfg.train_cfg.max_epochs == 3

    cfg = apply_train_options(_cfg(work_dir='from_cfg'), 'my_cfg.py', resume='ckpt.pth')
    assert (cfg.work_dir, cfg.resume, cfg.load_from) == ('from_cfg', True, 'ckpt.pth')


def test_cfg_options_merge_as_dict_action():
    """Repeated --cfg-options (collected as raw tokens by the tools) merge, later wins."""
    from lth_mm.apis import parse_cfg_options
    assert parse_cfg_options(None) is None
    assert parse_cfg_options(['a=1', 'b=[1,2]', 'a=x', 'c=True']) == dict(
        a='x', b=[1, 2], c=True)
    with pytest.raises(SystemExit, match='key=value'):
        parse_cfg_options(['a'])


def test_local_rank_from_the_command_line(no_local_rank):
    from lth_mm.apis import export_local_rank
    export_local_rank(3)
    assert os.environ['LOCAL_RANK'] == '3'
    export_local_rank(5)  # torchrun's own LOCAL_RANK wins
    assert os.environ['LOCAL_RANK'] == '3'


def test_train_amp():
    from lth_mm.apis import apply_train_options
    cfg = apply_train_options(_cfg(), 'my_cfg.py', amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'

    cfg = apply_train_options(_cfg(optim_wrapper=dict(type='AmpOptimWrapper')), 'my_cfg.py',
                              amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'

    with pytest.raises(SystemExit, match='MyMaskedOptimWrapper'):
        apply_train_options(_cfg(optim_wrapper=dict(type='MyMaskedOptimWrapper')),
                            'my_cfg.py', amp=True)


def test_train_auto_scale_lr():
    from lth_mm.apis import apply_train_options
    cfg = apply_train_options(_cfg(auto_scale_lr=dict(enable=False, base_batch_size=16)),
                              'my_cfg.py', auto_scale_lr=True)
    assert cfg.auto_scale_lr.enable is True
    with pytest.raises(SystemExit, match='base_batch_size'):
        apply_train_options(_cfg(), 'my_cfg.py', auto_scale_lr=True)


def test_test_options():
    from lth_mm.apis import apply_test_options
    det_hooks = dict(visualization=dict(type='DetVisualizationHook'))
    cfg = apply_test_options(_cfg(default_hooks=det_hooks), 'c/my_cfg.py', 'ticket.pth',
                             show_dir='vis')
    assert cfg.load_from == 'ticket.pth'
    assert cfg.work_dir == os.path.join('./work_dirs', 'my_cfg')
    assert cfg.default_hooks.visualization.draw is True
    assert cfg.default_hooks.visualization.test_out_dir == 'vis'

    pose_hooks = dict(visualization=dict(type='PoseVisualizationHook', enable=False))
    cfg = apply_test_options(_cfg(default_scope='mmpose', default_hooks=pose_hooks),
                             'c/my_cfg.py', 'ticket.pth', show_dir='vis')
    assert cfg.default_hooks.visualization.enable is True
    assert cfg.default_hooks.visualization.out_dir == 'vis'

    with pytest.raises(SystemExit, match='visualization'):
        apply_test_options(_cfg(default_hooks={}), 'c.py', 'w.pth', show_dir='vis')
    with pytest.raises(SystemExit, match='pkl'):
        apply_test_options(_cfg(), 'c.py', 'w.pth', out='r.json')
    with pytest.raises(SystemExit, match='flip_test'):
        apply_test_options(_cfg(default_scope='mmpose'), 'c.py', 'w.pth', tta=True)


@pytest.mark.parametrize('script, nargs, tool, launch', [
    ('dist_train.sh', 2, 'train.py', 'pytorch'), ('dist_test.sh', 3, 'test.py', 'pytorch'),
    ('slurm_train.sh', 4, 'train.py', 'slurm'), ('slurm_test.sh', 4, 'test.py', 'slurm')])
def test_launch_scripts(repo_root, tmp_path, script, nargs, tool, launch):
    """The dist_*/slurm_* scripts (mmdet's command lines) start the right tool: run with a
    stand-in interpreter and srun that print their arguments."""
    path = repo_root / 'tools' / script
    assert os.access(path, os.X_OK)
    for sh in (path, repo_root / 'tools' / 'launch_common.sh'):
        assert subprocess.run(['bash', '-n', str(sh)]).returncode == 0
    proc = subprocess.run(['bash', str(path)] + ['x'] * (nargs - 1),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and 'usage' in proc.stderr
    (tmp_path / 'srun').write_text('#!/bin/sh\necho srun "$@"\n')
    (tmp_path / 'srun').chmod(0o755)
    env = dict(os.environ, PYTHON='echo', PATH=f'{tmp_path}{os.pathsep}{os.environ["PATH"]}',
               GPUS='16', NNODES='2', MASTER_ADDR='10.0.0.1')
    args = [f'a{i}' for i in range(nargs)] + ['--amp']
    proc = subprocess.run(['bash', str(path), *args], capture_output=True, text=True,
                          timeout=30, env=env)
    assert proc.returncode == 0, proc.stderr
    words = proc.stdout.split()
    assert words[words.index(str(repo_root / 'tools' / tool)) + 1:][:2] == [
        '--launcher', launch]
    assert words[-1] == '--amp'
    if launch == 'pytorch':
        assert {'torch.distributed.run', '--nnodes=2', '--master_addr=10.0.0.1',
                f'--nproc_per_node={args[nargs - 1]}'} <= set(words)
    else:
        assert words[:3] == ['srun', '-p', 'a0'] and '--ntasks=16' in words


# ---------------------------------------------------------------------------------------
# Makefile, CI entry point, README


def _make_dry_run(repo_root, target):
    proc = subprocess.run(['make', '-n', '-C', str(repo_root), target],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(shutil.which('make') is None, reason='make is not installed')
def test_makefile_targets(repo_root):
    test = _make_dry_run(repo_root, 'test')
    assert 'tools/setup_env.sh' in test
    assert re.search(r'\.venv/bin/python -m pytest tests -q -ra --durations=15', test)
    demo = _make_dry_run(repo_root, 'demo')
    assert re.search(r'\.venv/bin/mim train lth_mm configs/demo/\S+\.py '
                     r'--work-dir work_dirs/demo', demo)
    assert "tools/analysis/report.py work_dirs/demo --out work_dirs/demo/report" in demo
    assert 'tools/analysis/print_summary.py work_dirs/demo' in demo
    assert '.cache/lth_mm' not in _make_dry_run(repo_root, 'clean')
    assert '.cache/lth_mm' in _make_dry_run(repo_root, 'distclean')


def test_ci_run_fails_when_make_test_fails(repo_root, tmp_path):
    """.ci/run runs `make test` and passes its failure on (pytest's 5 = nothing collected)."""
    ci = repo_root / '.ci' / 'run'
    assert ci.stat().st_mode & stat.S_IXUSR, '.ci/run must be executable'
    assert 'set -euo pipefail' in ci.read_text()
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir()
    record = tmp_path / 'make_args'
    fake_make = fake_bin / 'make'
    fake_make.write_text(f'#!/bin/sh\necho "$@" > {record}\nexit 5\n')
    fake_make.chmod(0o755)
    env = dict(os.environ, PATH=f'{fake_bin}{os.pathsep}{os.environ["PATH"]}')
    proc = subprocess.run([str(ci)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0, proc.stdout
    assert record.read_text().split() == ['test']
    assert 'date' in proc.stdout.lower() and 'machine' in proc.stdout.lower()


def test_readme_documents_make_targets(repo_root):
    readme = repo_root / 'README.md'
    assert readme.is_file(), 'README.md is missing'
    text = readme.read_text()
    assert 'make demo' in text and 'make test' in text
