# lth_mm developer entry points. Every target can be run again at any time:
#   make setup      create/refresh .venv (tools/setup_env.sh; quick when already set up)
#   make test       setup, then the test suite
#   make demo       setup, then a lottery experiment on synthetic data (<10 min), summary, report
#   make clean      remove run outputs, caches and the generated synthetic data
#                   (keeps .venv and the cached mmcv wheel)
#   make distclean  clean, plus .venv, lth_mm/.mim and the cached mmcv wheel
# Tools are called as .venv/bin/... so no virtual environment has to be activated.

SHELL := /bin/bash
# Run from the directory of this Makefile, wherever make is called from (make -C also works).
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VENV := $(ROOT)/.venv
PYTHON := $(VENV)/bin/python
MIM := $(VENV)/bin/mim
LTH_MM_CACHE ?= $(HOME)/.cache/lth_mm

DEMO_CONFIG := configs/demo/mask-rcnn_r18-w32_fpn_lth-keep20_synthetic-easy.py
DEMO_WORK_DIR := work_dirs/demo

.PHONY: help setup test demo clean distclean

help:
	@sed -n 's/^#   make /make /p' $(lastword $(MAKEFILE_LIST))

setup:
	cd $(ROOT) && bash tools/setup_env.sh

test: setup
	cd $(ROOT) && $(PYTHON) -m pytest tests -q -ra --durations=15

demo: setup
	cd $(ROOT) && $(MIM) train lth_mm $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR) --resume
	cd $(ROOT) && $(PYTHON) tools/analysis/print_summary.py $(DEMO_WORK_DIR)
	cd $(ROOT) && $(PYTHON) tools/analysis/report.py $(DEMO_WORK_DIR) --out $(DEMO_WORK_DIR)/report

# Never the ~/.cache/lth_mm wheel here: rebuilding mmcv takes ~15 minutes. Nor
# lth_mm.egg-info: with the development install it is the package's metadata. Of data/,
# only the synthetic set (regenerated on first use); real data sets may be linked there.
clean:
	cd $(ROOT) && rm -rf work_dirs build dist .pytest_cache data/lth_synthetic
	cd $(ROOT) && find . -path ./.venv -prune -o -path ./.git -prune -o \
		-type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	cd $(ROOT) && rm -rf .venv lth_mm/.mim *.egg-info
	rm -rf $(LTH_MM_CACHE)
