#!/usr/bin/env bash
# Start the Ray head on this node. GPUs/CPUs are detected unless NUM_GPUS / NUM_CPUS are set.
# Then on every other node: launch/ray_worker.sh <head-ip>:6379
set -euo pipefail
PORT="${RAY_PORT:-6379}"
args=(--head --port="$PORT" --include-dashboard=false)
[[ -n "${NUM_GPUS:-}" ]] && args+=(--num-gpus="$NUM_GPUS")
[[ -n "${NUM_CPUS:-}" ]] && args+=(--num-cpus="$NUM_CPUS")
ray start "${args[@]}"
echo "Ray head up. Workers join with: launch/ray_worker.sh $(hostname -I | awk '{print $1}'):$PORT"
