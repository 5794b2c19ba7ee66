#!/usr/bin/env bash
# Set up the lth_mm development stack in .venv at the repository root (CPU machines).
#
# Idempotent: every step checks what is already there, so a second run takes seconds.
# The mmcv build (about 15 min on 2 cores) is cached as a wheel outside the checkout,
# keyed by (mmcv version, torch version, Python tag), so a fresh clone on the same machine
# reuses it and a torch change rebuilds it.
#
# Existing OpenMMLab users with their own torch/mmcv do NOT need this script:
# `python setup.py develop --no-deps` (setuptools < 80) or `pip install .` installs lth_mm
# without touching torch or mmcv. A PEP 660 `pip install -e .` imports fine, but then
# `mim train lth_mm` and `lth_mm::` base configs cannot find lth_mm/.mim/ (see the end).
#
# Environment:
#   PYTHON          interpreter used to create .venv (default: python3.11, else python3)
#   VENV            virtual environment path (default: .venv)
#   LTH_MM_CACHE    cache root for the mmcv wheel and its build log (default: ~/.cache/lth_mm)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMENGINE_VERSION=0.10.7
MMCV_VERSION=2.1.0
MMDET_VERSION=3.3.0
MMPOSE_VERSION=1.3.2
MMPRETRAIN_VERSION=1.2.0

VENV="${VENV:-.venv}"
CACHE_ROOT="${LTH_MM_CACHE:-$HOME/.cache/lth_mm}"
if [ -z "${PYTHON:-}" ]; then
    PYTHON="$(command -v python3.11 || command -v python3)"
fi

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup] ERROR:\033[0m %s\n' "$*" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV" || die "could not create $VENV with $PYTHON (is the venv module installed?)"
fi
PY="$ROOT/$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

have() {  # have "python expression that raises if missing"
    "$PY" -c "$1" >/dev/null 2>&1
}

# Build tools. setuptools < 81 still ships pkg_resources, which mmcv's and xtcocotools'
# setup.py import (they are built without isolation against the installed torch/numpy) and
# which mim and mmengine use to locate installed packages; torch 2.14 asks for >= 77.0.3.
# Below 80, `setup.py develop` is still the egg-link install lth_mm relies on (see the end).
SETUPTOOLS_SPEC="setuptools>=77.0.3,<80"
log "build tools"
"${PIP[@]}" install -q --upgrade "pip>=23" "$SETUPTOOLS_SPEC" wheel "cython>=3" ninja

# torch + torchvision. The CPU-only torch 2.13 wheel has no matching torchvision (mmpose
# imports torchvision), so we use 2.14.1/0.29.1 from the package index; they run on CPU.
if ! have "import torch, torchvision; assert torch.__version__.split('+')[0] == '$TORCH_VERSION'; assert torchvision.__version__.split('+')[0] == '$TORCHVISION_VERSION'"; then
    log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
    "${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi

log "installing mmengine, runtime, test and optional requirements"
"${PIP[@]}" install -q "mmengine==$MMENGINE_VERSION" numpy "$SETUPTOOLS_SPEC" \
    -r requirements/runtime.txt -r requirements/tests.txt \
    -r <(grep -v -E '^[[:space:]]*openmim' requirements/optional.txt)
# openmim without its `opendatalab` requirement: that pulls in openxlab, which pins
# setuptools~=60.2 (too old for torch), requests~=2.28, tqdm~=4.65, rich~=13.4, filelock~=3.14
# and downgrades them. mim only runs opendatalab (its `odl` CLI) for `mim download --dataset`.
if ! have "import mim"; then
    log "installing openmim (without opendatalab)"
    "${PIP[@]}" install -q --no-deps openmim
fi
"${PIP[@]}" install -q click colorama model-index pandas requests rich tabulate

# mmcv with compiled ops, built once per (mmcv, torch, python) and cached as a wheel.
TORCH_FULL="$("$PY" -c 'import torch; print(torch.__version__)')"
PYTAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
WHEEL_DIR="$CACHE_ROOT/wheels/mmcv-${MMCV_VERSION}_torch-${TORCH_FULL}_${PYTAG}"
BUILD_LOG="$CACHE_ROOT/logs/mmcv-${MMCV_VERSION}_torch-${TORCH_FULL}_${PYTAG}.log"
if ! have "import mmcv, mmcv.ops; from mmcv.ops import nms; assert mmcv.__version__ == '$MMCV_VERSION'"; then
    if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv==$MMCV_VERSION with ops for torch $TORCH_FULL (about 15 min on 2 cores)"
        log "build log: $BUILD_LOG"
        mkdir -p "$CACHE_ROOT/wheels" "$CACHE_ROOT/logs"
        TMP="$(mktemp -d)"
        trap 'rm -rf "$TMP"' EXIT
        # --no-build-isolation: preparing the sdist's metadata runs its setup.py, which needs
        # pkg_resources (gone from the newest setuptools an isolated build would get).
        "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary mmcv \
            "mmcv==$MMCV_VERSION" -d "$TMP"
        tar xzf "$TMP"/mmcv-"$MMCV_VERSION".tar.gz -C "$TMP"
        SRC="$TMP/mmcv-$MMCV_VERSION"
        # torch >= 2.10 headers refuse anything below C++20; mmcv 2.1.0 asks for C++14/17.
        sed -i -E 's/-std=c\+\+1[47]/-std=c++20/g' "$SRC/setup.py"
        grep -q -- '-std=c++20' "$SRC/setup.py" || die "could not switch mmcv's C++ standard flag"
        if ! (cd "$SRC" && env -u FORCE_CUDA MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
                "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$TMP/dist" . >"$BUILD_LOG" 2>&1); then
            tail -n 40 "$BUILD_LOG" >&2
            die "mmcv build failed; full log: $BUILD_LOG"
        fi
        # Move into place atomically: a killed build never leaves a half-written cached wheel.
        mkdir -p "$WHEEL_DIR.tmp.$$"
        mv "$TMP"/dist/mmcv-*.whl "$WHEEL_DIR.tmp.$$/"
        rm -rf "$WHEEL_DIR"
        mv "$WHEEL_DIR.tmp.$$" "$WHEEL_DIR"
    else
        log "reusing cached mmcv wheel from $WHEEL_DIR"
    fi
    "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl
    "${PIP[@]}" install -q addict packaging pyyaml yapf opencv-python
fi

if ! have "import mmdet; assert mmdet.__version__ == '$MMDET_VERSION'"; then
    log "installing mmdet==$MMDET_VERSION"
    "${PIP[@]}" install -q "mmdet==$MMDET_VERSION"
fi

# xtcocotools: its wheel was compiled for numpy 1 and fails under numpy 2; build it from
# source against the numpy that is installed.
if ! have "from xtcocotools.coco import COCO; from xtcocotools.cocoeval import COCOeval"; then
    log "building xtcocotools from source against the installed numpy"
    "${PIP[@]}" install -q --no-build-isolation --no-binary xtcocotools --force-reinstall --no-deps xtcocotools
fi

# mmpose without its dependencies (chumpy does not build on Python 3.11), then its real
# runtime requirements explicitly.
if ! have "import mmpose; assert mmpose.__version__ == '$MMPOSE_VERSION'"; then
    log "installing mmpose==$MMPOSE_VERSION (--no-deps) and its runtime requirements"
    "${PIP[@]}" install -q --no-deps "mmpose==$MMPOSE_VERSION"
fi
"${PIP[@]}" install -q -r requirements/mmpose_runtime.txt

# albumentations 1.x for mmpose's Albumentation transform (RTMPose pipelines), with
# --no-deps: its wheel and albucore's require opencv-python-headless, a second `cv2` that
# would overwrite opencv-python's files (see requirements/albumentations.txt).
"${PIP[@]}" install -q -r requirements/albumentations_runtime.txt
if ! have "import albumentations, albucore; assert albumentations.__version__ == '1.4.24'"; then
    log "installing albumentations 1.x (--no-deps: no opencv-python-headless)"
    "${PIP[@]}" install -q --no-deps -r requirements/albumentations.txt
fi

# mmpretrain (ImageNet tickets for transfer) without its dependencies, which would pull
# another mmcv/mmengine; its real runtime requirements on Python 3.11 explicitly
# (importlib_metadata 8 dropped an API modelindex uses).
if ! have "import mmpretrain; assert mmpretrain.__version__ == '$MMPRETRAIN_VERSION'"; then
    log "installing mmpretrain==$MMPRETRAIN_VERSION (--no-deps) and its runtime requirements"
    "${PIP[@]}" install -q --no-deps "mmpretrain==$MMPRETRAIN_VERSION"
fi
"${PIP[@]}" install -q -r requirements/mmpretrain_runtime.txt

# lth_mm itself, editable, without touching anything installed above. Installed with
# `setup.py develop` (an egg-link to this checkout), not `pip install -e .`: mim (`mim train
# lth_mm ...`) and mmengine (`_base_ = ['lth_mm::...']`) look for lth_mm/.mim/ under the
# package's pkg_resources location, and for a PEP 660 editable install that location is
# site-packages, where there is no lth_mm/. setup.py links configs/, tools/ and
# model-index.yml into lth_mm/.mim/. The check runs from / so that this checkout's
# lth_mm.egg-info, found through the current directory, cannot make a broken install look
# right.
lth_mm_installed() {
    (cd / && "$PY" -W ignore - "$ROOT" <<'EOF'
import os, sys
import pkg_resources
root = sys.argv[1]
assert os.path.samefile(pkg_resources.get_distribution('lth_mm').location, root)
for name in ('configs', 'tools', 'model-index.yml'):
    assert os.path.samefile(os.path.join(root, 'lth_mm', '.mim', name), os.path.join(root, name))
EOF
    ) >/dev/null 2>&1
}
if ! lth_mm_installed; then
    log "installing lth_mm (development mode: setup.py develop)"
    # drop any other install first (e.g. a PEP 660 one from `pip install -e .`)
    "${PIP[@]}" uninstall -q -y lth_mm >/dev/null 2>&1 || true
    DEVELOP_LOG="$(mktemp)"
    if ! PYTHONWARNINGS=ignore "$PY" setup.py develop --no-deps >"$DEVELOP_LOG" 2>&1; then
        cat "$DEVELOP_LOG" >&2
        die "installing lth_mm failed"
    fi
    rm -f "$DEVELOP_LOG"
    lth_mm_installed || die "lth_mm installed, but mim/mmengine cannot find lth_mm/.mim"
fi

"$PY" - <<'EOF'
import torch, mmcv, mmengine, mmdet, mmpose, mmpretrain, lth_mm
from mmcv.ops import nms  # noqa: F401  (fails if the ops were not compiled)
import mmpretrain.models  # noqa: F401  (fails without its runtime requirements)
print(f"[setup] ok: torch {torch.__version__}, mmengine {mmengine.__version__}, "
      f"mmcv {mmcv.__version__} (ops), mmdet {mmdet.__version__}, mmpose {mmpose.__version__}, "
      f"mmpretrain {mmpretrain.__version__}, lth_mm {lth_mm.__version__}")
EOF
