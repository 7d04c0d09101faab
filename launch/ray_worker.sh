#!/usr/bin/env bash
# Join this node to a running Ray cluster:
#   launch/ray_worker.sh HEAD_IP:PORT [extra `ray start` options, e.g. --block --temp-dir=/tmp/rayY]
# Environment (all optional): NUM_CPUS / NUM_GPUS (default: detected); RESOURCES, this node's Ray custom resources as
# JSON (e.g. '{"rollout": 8}': +cluster.rollout_resources.rollout=1 then puts each rollout worker here); NODE_IP,
# the address the other nodes reach this one at (127.0.0.2 for a node beside the head on one machine: see ray_head.sh).
# What it exposes: the raylet's node and object managers, the dashboard agent, the runtime-env agent, a metrics
# endpoint and one port per worker process, on NODE_IP or the machine's address (some on all interfaces); ports can
# be fixed with the `ray start` options (--node-manager-port, --object-manager-port, --min-worker-port, ...).
# Authentication: the head's (see launch/ray_head.sh): with Ray's token auth on, this node needs the same token
# (~/.ray/auth_token, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH); without it, anyone reaching these ports can run code.
set -euo pipefail
if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: $0 HEAD_IP:PORT [ray start options]   (the address launch/ray_head.sh printed)" >&2
  exit 2
fi
args=(--address="$1")
shift
[[ -n "${NUM_GPUS:-}" ]] && args+=(--num-gpus="$NUM_GPUS")
[[ -n "${NUM_CPUS:-}" ]] && args+=(--num-cpus="$NUM_CPUS")
[[ -n "${RESOURCES:-}" ]] && args+=(--resources="$RESOURCES")
if [[ -n "${NODE_IP:-}" ]]; then
  args+=(--node-ip-address="$NODE_IP")
  # A loopback node address: Ray swaps it for the machine's own unless in its one-machine mode (which then refuses
  # other nodes). Other loopback addresses (127.0.0.2, ...) are kept as they are, for several nodes on one machine.
  if [[ "$NODE_IP" == 127.0.0.1 || "$NODE_IP" == localhost ]]; then export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0; fi
fi
exec ray start "${args[@]}" "$@"
