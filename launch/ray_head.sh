#!/usr/bin/env bash
# Start the Ray head on this node, with the dashboard: its job server is what `ray job submit` / launch/submit.sh
# talk to. Other nodes join with launch/ray_worker.sh <head address>:RAY_PORT.
#   launch/ray_head.sh [extra `ray start` options, e.g. --block --temp-dir=/tmp/rayX]
# Environment (all optional):
#   NUM_CPUS / NUM_GPUS   what this node offers (default: detected)
#   RESOURCES             Ray custom resources of this node as JSON, e.g. '{"learner": 1}'; runs place roles on them
#                         with cluster.learner_resources / rollout_resources / verifier_resources
#   NODE_IP               the address of this node that the others reach (default: Ray picks the machine's address).
#                         127.0.0.1: a one-node cluster whose every listener is on loopback (no other node can join);
#                         several nodes on one machine (tests/multinode.py): 127.0.0.2 for all, so their traffic stays
#                         on loopback, though Ray's servers then listen on all interfaces
#   RAY_PORT              the GCS port nodes and drivers join at (default 6379)
#   DASHBOARD_PORT / DASHBOARD_HOST   the dashboard and job server (default 127.0.0.1:8265: this node only;
#                         DASHBOARD_HOST=0.0.0.0 lets other machines submit jobs)
# What it exposes: the GCS (RAY_PORT), the raylet's node and object managers, the dashboard agent, the runtime-env
# agent, a metrics endpoint and one port per worker process, on NODE_IP (or the machine's address and, for some, all
# interfaces); the dashboard/job server on DASHBOARD_HOST:DASHBOARD_PORT. Fixed ports can be given as the `ray start`
# options above (--node-manager-port, --object-manager-port, --min-worker-port/--max-worker-port, ...).
# Authentication: Ray's token auth. With a token in ~/.ray/auth_token (or RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH; make
# one with `ray get-auth-token --generate`) or RAY_AUTH_MODE=token, every connection (nodes, drivers, the job client)
# must present that token: copy it to every node and to where jobs are submitted from. Without a token there is no
# authentication: anyone who can reach these ports can run code on the cluster, so keep them inside a private network.
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
[[ -n "${RESOURCES:-}" ]] && args+=(--resources="$RESOURCES")
if [[ -n "${NODE_IP:-}" ]]; then
  args+=(--node-ip-address="$NODE_IP")
  # A loopback node address: Ray swaps it for the machine's own unless in its one-machine mode (which then refuses
  # other nodes). Other loopback addresses (127.0.0.2, ...) are kept as they are, for several nodes on one machine.
  if [[ "$NODE_IP" == 127.0.0.1 || "$NODE_IP" == localhost ]]; then export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0; fi
fi
echo "Ray head: workers join with launch/ray_worker.sh ${NODE_IP:-$(hostname -I 2>/dev/null | awk '{print $1}')}:$PORT;" \
     "jobs go to RAY_ADDRESS=http://${DASHBOARD_HOST:-127.0.0.1}:$DASHBOARD_PORT (launch/submit.sh)"
exec ray start "${args[@]}" "$@"
