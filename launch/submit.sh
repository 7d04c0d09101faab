#!/usr/bin/env bash
# Submit a training run to a running Ray cluster through its job server (launch/ray_head.sh starts it).
#   launch/submit.sh experiment=qwen_math_1.5b_grpo model.path=/models/Qwen2.5-Math-1.5B
# RAY_ADDRESS: the job server (default http://127.0.0.1:8265, the local head's). cluster=ray_gpu unless a cluster=
# override is given; cluster=local works too (the job's driver joins the cluster it runs in, whatever cluster.address
# says). The run directory defaults to RUNS_DIR/<name>/<time> (RUNS_DIR default: ./runs of this checkout, which the
# head must see, e.g. a shared file system) rather than inside Ray's copy of the working dir.
# SUBMISSION_ID names the job; WAIT=1 streams its logs and returns when it ends (default: return at once).
# What it exposes: nothing; it is a client of the head's job server (HTTP) and uploads this checkout (less what
# .gitignore leaves out) to the cluster as the job's working dir. Authentication: Ray's token, sent when
# RAY_AUTH_MODE=token or, as below, when a token exists here; without a token on the head, none.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAY_ADDRESS="${RAY_ADDRESS:-http://127.0.0.1:8265}"
# A head started where ~/.ray/auth_token exists requires that token (Ray's token auth); the job client only sends
# it when RAY_AUTH_MODE=token, so say so unless the user chose a mode.
if [[ -z "${RAY_AUTH_MODE:-}" && ( -n "${RAY_AUTH_TOKEN:-}" || -f "${RAY_AUTH_TOKEN_PATH:-$HOME/.ray/auth_token}" ) ]]; then
  export RAY_AUTH_MODE=token
fi
if ! python - <<'PY'
import os, sys
try:
    from ray.job_submission import JobSubmissionClient
except ImportError as e:
    sys.exit(f"error: 'ray job submit' needs ray[default] ({e}): pip install 'ray[default]'")
try:
    JobSubmissionClient(os.environ["RAY_ADDRESS"])
except Exception as e:
    sys.exit(f"error: no Ray job server at RAY_ADDRESS={os.environ['RAY_ADDRESS']} ({type(e).__name__}: "
             f"{str(e).splitlines()[0] if str(e) else ''}). Start the head with launch/ray_head.sh (it enables "
             f"the dashboard, which serves jobs) or set RAY_ADDRESS=http://HEAD:8265")
PY
then exit 2; fi
overrides=("$@")
[[ " ${overrides[*]-} " == *" cluster="* ]] || overrides=(cluster=ray_gpu "${overrides[@]}")
[[ " ${overrides[*]} " == *" hydra.run.dir="* ]] ||
  overrides+=("hydra.run.dir=${RUNS_DIR:-$PWD/runs}/\${name}/\${now:%Y-%m-%d_%H-%M-%S}")
opts=(--working-dir .)
[[ -n "${SUBMISSION_ID:-}" ]] && opts+=(--submission-id "$SUBMISSION_ID")
[[ "${WAIT:-0}" == 1 ]] || opts+=(--no-wait)
# A head that has just started serves jobs before its job agent has registered; it then refuses the submission (no
# job is created) with "No available agent", so try again for up to AGENT_WAIT_S seconds (default 120).
errors=$(mktemp); trap 'rm -f "$errors"' EXIT
deadline=$((SECONDS + ${AGENT_WAIT_S:-120}))
while true; do
  rc=0
  ray job submit "${opts[@]}" -- python -m rlvr.train "${overrides[@]}" 2>"$errors" || rc=$?
  cat "$errors" >&2  # (stderr kept in a file to be read below; the job's logs stream on stdout)
  if [[ $rc -ne 0 ]] && grep -q "No available agent" "$errors" && ((SECONDS < deadline)); then
    echo "submit.sh: the head's job agent is not up yet; trying again in 2 s" >&2
    sleep 2
    continue
  fi
  exit $rc
done
