#!/usr/bin/env bash
# The GPU figures of the learner and the rollout side on one single-GPU machine, each check's output in
# $OUT/<check>.txt and the machine, date and exit codes in $OUT/env.txt. Prepared so that a session lent the device
# machine (../.library/device/README.md: 15 minutes, 10 per command) spends it measuring, not setting up:
#   here, once:   WITH_TRL=1 ../shared/tools/gpu-wheels.sh          (Ray, Hydra, TRL as wheels in .whl/)
#   device:       bash launch/gpu_checks.sh learner engine          (carry [".whl"], timeout_s 590)
#                 bash launch/gpu_checks.sh sync gpu_step           (a second call while the machine is warm)
# Checks: learner (bench learner: tokens/s, MFU, peak memory at the 1.5B shape and the experiment's batch, beside the
# compiled plain baseline), engine (bench engine: HF engine loops vs the bandwidth bound, 0.5B, 64 x 256), sync
# (bench sync at 0.5B: object store and CUDA IPC on one GPU), gpu_step (bench gpu-step beside TRL's GRPOTrainer, ipc
# sync), learner_3b (optional: does the 3B shape train at the experiment's batch within 80 GiB, measured by capping
# the process's GPU memory). Each check has PER_CHECK_S seconds.
set -uo pipefail
OUT=${OUT:-gpu_results}
PER_CHECK_S=${PER_CHECK_S:-280}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PYTHON=${PYTHON:-python3}   # the interpreter with torch (python3 on the device machine)
if ls .whl/*.whl >/dev/null 2>&1; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
{ date -u +%Y-%m-%dT%H:%M:%SZ; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PYTHON" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
} >> "$OUT/env.txt" 2>&1
declare -A ARGS=([learner]="learner --steps 2" [engine]="engine --repeats 2" [sync]="sync --shape 0.5b --engines 1"
                 [gpu_step]="gpu-step --steps 5" [learner_3b]="learner --shape 3b --steps 1 --no-compile --budget-gib 80")
for check in "$@"; do
  if [ -z "${ARGS[$check]+x}" ]; then echo "unknown check $check (${!ARGS[*]})" >> "$OUT/env.txt"; continue; fi
  start=$(date +%s)
  timeout "$PER_CHECK_S" "$PYTHON" -m bench ${ARGS[$check]} > "$OUT/$check.txt" 2>&1
  echo "$check: python -m bench ${ARGS[$check]} -> rc=$? in $(( $(date +%s) - start )) s" >> "$OUT/env.txt"
done
cat "$OUT/env.txt"
