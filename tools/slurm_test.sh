#!/usr/bin/env bash
# Testing on a Slurm cluster, as MMDetection's tools/slurm_test.sh:
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
#
# srun starts GPUS tasks of tools/test.py with `--launcher slurm`. PYTHON picks the
# interpreter (default: the checkout's .venv if there is one, else `python`).
set -euo pipefail
source "$(dirname "$0")/launch_common.sh"
lth_mm_usage 4 "$0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]" "$@"

lth_mm_srun "$2" "$1" test.py "$3" "$4" "${@:5}"
