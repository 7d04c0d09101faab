#!/usr/bin/env bash
# Submit a training run to a running Ray cluster (RAY_ADDRESS, default the local head's job server).
#   launch/submit.sh experiment=qwen_math_1.5b_grpo model.path=/models/Qwen2.5-Math-1.5B
set -euo pipefail
cd "$(dirname "$0")/.."
export RAY_ADDRESS="${RAY_ADDRESS:-http://127.0.0.1:8265}"
exec ray job submit --working-dir . --no-wait -- python -m rlvr.train cluster=ray_gpu "$@"
