#!/usr/bin/env bash
# Distributed training on one or more nodes, as MMDetection's tools/dist_train.sh:
#
#   bash tools/dist_train.sh CONFIG GPUS [train.py args...]
#
# Multi-node: run it on every node with NNODES, NODE_RANK (0 on the master), MASTER_ADDR
# (the master's address) and PORT set alike. PYTHON picks the interpreter (default: the
# checkout's .venv if there is one, else `python`).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py args...]" >&2
    exit 2
fi

CONFIG=$1
GPUS=$2
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
# train.py reads them through `--launcher pytorch`.
PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$TOOLS_DIR/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
