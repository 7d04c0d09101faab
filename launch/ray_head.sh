#!/usr/bin/env bash
# Start the Ray head on this node, with the dashboard: its job server (DASHBOARD_PORT, default 8265) is what
# `ray job submit` / launch/submit.sh talk to. GPUs/CPUs are detected unless NUM_GPUS / NUM_CPUS are set.
#   launch/ray_head.sh [extra `ray start` options, e.g. --block --temp-dir=/tmp/rayX]
# Then on every other node: launch/ray_worker.sh <head-ip>:6379
# DASHBOARD_HOST=0.0.0.0 lets other machines submit jobs (default 127.0.0.1: only this node).
set -euo pipefail
PORT="${RAY_PORT:-6379}"
DASHBOARD_PORT="${DASHBOARD_PORT:-8265}"
if ! python -c "import aiohttp_cors, opencensus" 2>/dev/null; then
  echo "error: the Ray dashboard (and so 'ray job submit') needs ray[default]: pip install 'ray[default]'" \
       "(a dependency of this project: pip install -e .)" >&2
  exit 2
fi
args=(--head --port="$PORT" --include-dashboard=true --dashboard-host="${DASHBOARD_HOST:-127.0.0.1}"
      --dashboard-port="$DASHBOARD_PORT")
[[ -n "${NUM_GPUS:-}" ]] && args+=(--num-gpus="$NUM_GPUS")
[[ -n "${NUM_CPUS:-}" ]] && args+=(--num-cpus="$NUM_CPUS")
echo "Ray head: workers join with launch/ray_worker.sh $(hostname -I 2>/dev/null | awk '{print $1}'):$PORT;" \
     "jobs go to RAY_ADDRESS=http://${DASHBOARD_HOST:-127.0.0.1}:$DASHBOARD_PORT (launch/submit.sh)"
exec ray start "${args[@]}" "$@"
