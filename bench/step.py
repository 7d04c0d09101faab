"""`python -m bench step [overrides]`: the step-time split (generate / verify / learn / sync) and tokens/s,
with the vLLM engine and the HF engine measured in the same run, on the same prompts and model.

Figures, not assertions: speed targets live here, never in timed unit tests.
"""
from __future__ import annotations

import tempfile

from rlvr.infra.env import apply_engine_env

apply_engine_env()

KEYS = ["time/generate_s", "time/verify_s", "time/learn_s", "time/sync_s", "time/step_s", "tokens_per_s"]


def bench_step(overrides: list[str], steps: int = 4, warmup: int = 1) -> dict[str, dict[str, float]]:
    from rlvr.config import compose
    from rlvr.run import build_run

    results = {}
    for engine in ("vllm", "hf"):
        cfg = compose(["model.warm_start.enabled=false", f"rollout.engine={engine}", *overrides])
        with build_run(cfg, tempfile.mkdtemp(prefix=f"rlvr-bench-{engine}-")) as run:
            run.sync()
            rows = [run.step(s) for s in range(warmup + steps)][warmup:]
        results[engine] = {k: sum(r.get(k, 0.0) for r in rows) / len(rows) for k in KEYS}
    return results


def print_table(results: dict[str, dict[str, float]]) -> None:
    engines = list(results)
    print(f"{'metric':<18}" + "".join(f"{e:>12}" for e in engines) + f"{'hf/vllm':>10}")
    for k in KEYS:
        vals = [results[e][k] for e in engines]
        ratio = vals[1] / vals[0] if vals[0] else float("nan")
        print(f"{k:<18}" + "".join(f"{v:>12.3f}" for v in vals) + f"{ratio:>10.2f}")


def main(argv: list[str]) -> int:
    print_table(bench_step(argv))
    return 0
