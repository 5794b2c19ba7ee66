#!/usr/bin/env python
# Copyright (c) lth_mm authors. All rights reserved.
"""Packaging for lth_mm, in the layout of MMDetection 3.x / MMPose 1.x.

* ``install_requires`` is ``requirements/runtime.txt``; it deliberately does not list
  torch or mmcv, so installing lth_mm never touches a user's own build of them.
* The extras ``all``, ``tests``, ``optional`` and ``mim`` come from ``requirements/*.txt``.
* :func:`add_mim_extension` puts ``configs/``, ``tools/`` and ``model-index.yml`` under
  ``lth_mm/.mim/`` (symlinks for an editable install, copies for a wheel or sdist), which
  is where ``mim train lth_mm ...`` looks for the training script and where mmengine
  resolves ``_base_ = ['lth_mm::<path>.py']``.

Editable installs: use ``python setup.py develop --no-deps`` (setuptools < 80; what
``make setup`` does). mim and mmengine find ``lth_mm/.mim/`` through the distribution's
pkg_resources location, which a PEP 660 ``pip install -e .`` sets to site-packages, where
there is no ``lth_mm/``: the package imports, but ``mim train lth_mm`` and ``lth_mm::``
configs fail. A regular ``pip install .`` (copies) works too.

This file must stay importable without side effects (``import setup`` is how the tests
read :func:`parse_requirements`): everything with effects runs under ``__main__``.
"""
import os
import os.path as osp
import platform
import shutil
import sys
import warnings

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))
VERSION_FILE = osp.join(ROOT, 'lth_mm', 'version.py')

# What add_mim_extension() exposes under lth_mm/.mim/ (as mmdet, minus its demo/).
# model-index.yml is not optional: mmengine opens it for every `lth_mm::` base config.
MIM_FILES = ('configs', 'tools', 'model-index.yml')

# setup.py commands (as they appear in sys.argv) that build an editable install, which
# links to the checkout, or a distribution, which needs real copies. `develop` is the
# legacy `setup.py develop` / egg-link path; `editable_wheel` is what setuptools runs for a
# PEP 660 `pip install -e .`. mmdet only checks for `develop`, which a PEP 660 install never
# passes, so there the links silently would not be (re)created.
_LINK_COMMANDS = ('develop', 'editable_wheel')
_COPY_COMMANDS = ('sdist', 'bdist_wheel', 'build', 'install')


def readme():
    """Return README.md for the long description ('' if the checkout has none yet)."""
    path = osp.join(ROOT, 'README.md')
    if not osp.exists(path):
        return ''
    with open(path, encoding='utf-8') as f:
        return f.read()


def get_version():
    """Read ``__version__`` from lth_mm/version.py without importing lth_mm.

    Importing the package would import torch and the OpenMMLab stack, which need not be
    installed when the package is built.
    """
    namespace = {}
    with open(VERSION_FILE, encoding='utf-8') as f:
        exec(compile(f.read(), VERSION_FILE, 'exec'), namespace)
    return namespace['__version__']


def parse_requirements(fname='requirements/runtime.txt', with_version=True):
    """Parse a requirements file into a list of PEP 508 requirement strings.

    Follows the helper in OpenMMLab's setup.py files: blank lines and comments are
    skipped, ``-r other.txt`` is followed (relative to the including file), ``-e URL#egg=x``
    yields ``x``, and environment markers (``; python_version < "3.9"``) are kept.

    Args:
        fname (str): Path of the requirements file, relative to the repository root or
            absolute. A missing file yields an empty list (an sdist may lack optional
            lists).
        with_version (bool): Keep version specifiers (``mmcv>=2.0.0,<2.2.0``). If False,
            only the names (and markers) are returned.

    Returns:
        list[str]: Requirement strings, in file order.

    Example:
        >>> parse_requirements('requirements/mminstall.txt')[:1]
        ['mmengine>=0.10.0,<1.0.0']
    """
    import re

    path = fname if osp.isabs(fname) else osp.join(ROOT, fname)
    if not osp.exists(path):
        return []

    def parse_file(fpath):
        with open(fpath, encoding='utf-8') as f:
            for raw in f:
                line = raw.split(' #', 1)[0].strip()  # drop trailing comments
                if not line or line.startswith('#'):
                    continue
                if line.startswith(('-r ', '--requirement ')):
                    target = line.split(None, 1)[1]
                    yield from parse_file(osp.join(osp.dirname(fpath), target))
                elif line.startswith(('-e ', '--editable ')):
                    yield line.split('#egg=', 1)[1]
                elif line.startswith('-'):
                    continue  # pip options such as --index-url have no setup.py meaning
                else:
                    yield line

    requirements = []
    for line in parse_file(path):
        if with_version or '@' in line:  # keep direct references (pkg @ url) whole
            requirements.append(line)
            continue
        requirement, _, marker = line.partition(';')
        name = re.split(r'[<>=!~\[ ]', requirement.strip(), maxsplit=1)[0]
        requirements.append(name + (';' + marker.strip() if marker else ''))
    return requirements


def _mim_mode(argv):
    """Return 'symlink', 'copy' or None for the setup.py command line ``argv``."""
    if any(cmd in argv for cmd in _LINK_COMMANDS):
        # symlinks need privileges on Windows, as in mmdet fall back to copies there
        return 'copy' if platform.system() == 'Windows' else 'symlink'
    if any(cmd in argv for cmd in _COPY_COMMANDS):
        return 'copy'
    # egg_info, dist_info, --version, clean, ...: leave lth_mm/.mim/ as it is
    return None


def add_mim_extension(argv=None):
    """Expose ``configs/`` and ``tools/`` as ``lth_mm/.mim/configs`` and ``.mim/tools``.

    This is what lets ``mim train lth_mm <config>`` find ``tools/train.py`` and lets any
    config on disk use ``_base_ = ['lth_mm::_base_/lottery.py']``: both mim and mmengine
    look under ``<installed lth_mm>/.mim/``.

    An editable install (``setup.py develop``, or PEP 660 ``pip install -e .``) gets
    relative symlinks, so edits in configs/ and tools/ are live. A wheel or sdist build
    gets real copies, since the build must carry the files. Other commands (metadata
    only) leave ``lth_mm/.mim/`` untouched. ``lth_mm/.mim/`` is git-ignored.

    Args:
        argv (list[str], optional): The setup.py command line; defaults to ``sys.argv``.
    """
    argv = sys.argv if argv is None else argv
    mode = _mim_mode(argv)
    if mode is None:
        return
    if 'editable_wheel' in argv:
        warnings.warn(
            'lth_mm: a PEP 660 editable install (pip install -e .) imports fine, but mim '
            'and mmengine look for lth_mm/.mim/ under site-packages and will not find it: '
            '`mim train lth_mm ...` and `lth_mm::` base configs fail. Use `python setup.py '
            'develop --no-deps` (setuptools < 80) or a regular `pip install .` instead.')

    mim_path = osp.join(ROOT, 'lth_mm', '.mim')
    os.makedirs(mim_path, exist_ok=True)

    for filename in MIM_FILES:
        src_path = osp.join(ROOT, filename)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, filename)

        # Replace whatever an earlier install left (a link, a copy, or a file).
        if osp.islink(tar_path) or osp.isfile(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)

        if mode == 'symlink':
            # relative, so the checkout can be moved without breaking the links
            os.symlink(osp.relpath(src_path, osp.dirname(tar_path)), tar_path)
        elif osp.isfile(src_path):
            shutil.copyfile(src_path, tar_path)
        elif osp.isdir(src_path):
            shutil.copytree(
                src_path, tar_path,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            warnings.warn(f'Cannot copy {src_path} into {mim_path}.')


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='lth_mm',
        version=get_version(),
        description='Lottery Ticket Hypothesis pruning for OpenMMLab '
        'detection and pose estimation',
        long_description=readme(),
        long_description_content_type='text/markdown',
        author='lth_mm authors',
        keywords='computer vision, object detection, pose estimation, '
        'pruning, lottery ticket hypothesis',
        packages=find_packages(exclude=('configs', 'configs.*', 'tools', 'tools.*',
                                        'tests', 'tests.*', 'docs', 'docs.*')),
        include_package_data=True,
        # `.mim/**` are the copies made by add_mim_extension() for a wheel or sdist; the
        # dataset meta files are plain .py files that mmengine reads with Config.fromfile.
        package_data={
            'lth_mm': [
                '.mim/**/*.py',
                '.mim/**/*.sh',
                '.mim/**/*.yml',
                '.mim/model-index.yml',
                'datasets/metainfo/*.py',
                'data/*.json',
            ],
        },
        classifiers=[
            'Development Status :: 4 - Beta',
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.8',
            'Programming Language :: Python :: 3.9',
            'Programming Language :: Python :: 3.10',
            'Programming Language :: Python :: 3.11',
        ],
        license='Apache License 2.0',
        python_requires='>=3.8',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            # as in mmdet, `all` = everything that is not the OpenMMLab stack itself
            'all': (parse_requirements('requirements/runtime.txt') +
                    parse_requirements('requirements/optional.txt') +
                    parse_requirements('requirements/tests.txt')),
            'tests': parse_requirements('requirements/tests.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
            'mim': parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False)
