#!/usr/bin/env bash
# Distributed training on one or more nodes, as MMDetection's tools/dist_train.sh:
#
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
#
# Multi-node: run it on every node with NNODES, NODE_RANK (0 on the master), MASTER_ADDR
# (the master's address) and PORT set alike. PYTHON picks the interpreter (default: the
# checkout's .venv if there is one, else `python`). See tools/launch_common.sh.
set -euo pipefail
source "$(dirname "$0")/launch_common.sh"
lth_mm_usage 2 "$0 CONFIG GPUS [train.py args...]" "$@"

lth_mm_torchrun train.py "$2" "$1" "${@:3}"
