#!/usr/bin/env bash
# Join this node to a running Ray cluster: launch/ray_worker.sh HEAD_IP:PORT
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 HEAD_IP:PORT   (the address launch/ray_head.sh printed)" >&2
  exit 2
fi
args=(--address="$1")
[[ -n "${NUM_GPUS:-}" ]] && args+=(--num-gpus="$NUM_GPUS")
[[ -n "${NUM_CPUS:-}" ]] && args+=(--num-cpus="$NUM_CPUS")
ray start "${args[@]}"
