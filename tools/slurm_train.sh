#!/usr/bin/env bash
# Training on a Slurm cluster, as MMDetection's tools/slurm_train.sh:
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#       bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
#
# srun starts GPUS tasks of tools/train.py with `--launcher slurm`. PYTHON picks the
# interpreter (default: the checkout's .venv if there is one, else `python`).
set -euo pipefail
source "$(dirname "$0")/launch_common.sh"
lth_mm_usage 4 "$0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]" "$@"

lth_mm_srun "$2" "$1" train.py "$3" --work-dir="$4" "${@:5}"
