# Shared by tools/dist_*.sh and tools/slurm_*.sh (sourced, not run):
#
#   lth_mm_usage MIN_ARGS USAGE "$@"       exit 2 with the usage if fewer arguments
#   lth_mm_torchrun TOOL GPUS ARGS...      torchrun over GPUS workers of tools/TOOL
#   lth_mm_srun JOB_NAME PARTITION TOOL ARGS...   srun of tools/TOOL, as mmdet's slurm_*.sh
#
# Environment: PYTHON picks the interpreter (default: the checkout's .venv if there is
# one, else `python`); torchrun reads NNODES, NODE_RANK, MASTER_ADDR and PORT (multi-node:
# set them alike on every node, NODE_RANK 0 on the master); srun reads GPUS (8),
# GPUS_PER_NODE (8), CPUS_PER_TASK (5) and SRUN_ARGS (more srun options).

lth_mm_usage() {
    local min=$1 usage=$2
    shift 2
    if [ $# -lt "$min" ]; then
        echo "usage: $usage" >&2
        exit 2
    fi
}

# -P: resolve lth_mm/.mim/tools (a symlink in editable installs) to the checkout's tools/
TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$TOOLS_DIR/../.venv/bin/python" ]; then
        PYTHON="$TOOLS_DIR/../.venv/bin/python"
    else
        PYTHON=python
    fi
fi
export PYTHONPATH="$TOOLS_DIR/..${PYTHONPATH:+:$PYTHONPATH}"

lth_mm_torchrun() {
    local tool=$1 gpus=$2
    shift 2
    # torchrun (torch.distributed.run) sets LOCAL_RANK/RANK/WORLD_SIZE for every worker;
    # the tool reads them through `--launcher pytorch`.
    "$PYTHON" -m torch.distributed.run \
        --nnodes="${NNODES:-1}" \
        --node_rank="${NODE_RANK:-0}" \
        --master_addr="${MASTER_ADDR:-127.0.0.1}" \
        --nproc_per_node="$gpus" \
        --master_port="${PORT:-29500}" \
        "$TOOLS_DIR/$tool" --launcher pytorch "$@"
}

lth_mm_srun() {
    local job_name=$1 partition=$2 tool=$3
    shift 3
    # SRUN_ARGS is split on purpose: it holds several srun options
    # shellcheck disable=SC2086
    srun -p "$partition" \
        --job-name="$job_name" \
        --gres=gpu:"${GPUS_PER_NODE:-8}" \
        --ntasks="${GPUS:-8}" \
        --ntasks-per-node="${GPUS_PER_NODE:-8}" \
        --cpus-per-task="${CPUS_PER_TASK:-5}" \
        --kill-on-bad-exit=1 \
        ${SRUN_ARGS:-} \
        "$PYTHON" -u "$TOOLS_DIR/$tool" --launcher slurm "$@"
}
