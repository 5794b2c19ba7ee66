#!/usr/bin/env bash
# Distributed testing on one or more nodes, as MMDetection's tools/dist_test.sh:
#
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
#
# Multi-node: run it on every node with NNODES, NODE_RANK (0 on the master), MASTER_ADDR
# (the master's address) and PORT set alike. PYTHON picks the interpreter (default: the
# checkout's .venv if there is one, else `python`). See tools/launch_common.sh.
set -euo pipefail
source "$(dirname "$0")/launch_common.sh"
lth_mm_usage 3 "$0 CONFIG CHECKPOINT GPUS [test.py args...]" "$@"

lth_mm_torchrun test.py "$3" "$1" "$2" "${@:4}"
