#!/usr/bin/env bash
# Distributed testing on one or more nodes, as MMDetection's tools/dist_test.sh:
#
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args...]
#
# Multi-node: run it on every node with NNODES, NODE_RANK (0 on the master), MASTER_ADDR
# (the master's address) and PORT set alike. PYTHON picks the interpreter (default: the
# checkout's .venv if there is one, else `python`).
set -euo pipefail

if [ $# -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args...]" >&2
    exit 2
fi

CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

# -P: resolve lth_mm/.mim/tools (a symlink in editable installs) to the checkout's tools/
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd -P)"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$TOOLS_DIR/../.venv/bin/python" ]; then
        PYTHON="$TOOLS_DIR/../.venv/bin/python"
    else
        PYTHON=python
    fi
fi

# torchrun (torch.distributed.run) sets LOCAL_RANK/RANK/WORLD_SIZE for every worker;
# test.py reads them through `--launcher pytorch`.
PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
