"""Throughput and per-type accuracy on the labeled table, ours side by side with math-verify."""
import json
import time
from collections import defaultdict
from pathlib import Path

from rlvr_verify.verify import verify

TABLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "verifier_cases.jsonl"


def load_cases(path=TABLE):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def _math_verify():
    try:
        from math_verify import parse, verify as mv_verify
    except ImportError as exc:
        print(f"math-verify not importable ({exc}); printing ours only")
        return None

    def judge(response, gold):
        try:
            return bool(mv_verify(parse("$" + gold + "$"), parse(response)))
        except Exception:
            return False
    return judge


def run_bench(path=TABLE, pool_workers: int = 2):
    cases = load_cases(path)
    judges = {"ours": lambda r, g: verify(r, g).correct}
    mv = _math_verify()
    if mv:
        judges["math-verify"] = mv
    acc, rate = {}, {}
    for name, judge in judges.items():
        hits, totals = defaultdict(int), defaultdict(int)
        start = time.perf_counter()
        for c in cases:
            hits[c["type"]] += judge(c["response"], c["gold"]) == c["expected"]
            totals[c["type"]] += 1
        rate[name] = len(cases) / (time.perf_counter() - start)
        acc[name] = {t: hits[t] / totals[t] for t in totals} | {"ALL": sum(hits.values()) / len(cases)}
    from rlvr_verify.pool import VerifierPool
    with VerifierPool(num_workers=pool_workers, timeout_s=5.0) as pool:
        pool.verify_batch(["\\boxed{1}"] * 4, ["1"] * 4)  # warm the workers
        start = time.perf_counter()
        pool.verify_batch([c["response"] for c in cases], [c["gold"] for c in cases])
        rate["ours (pool)"] = len(cases) / (time.perf_counter() - start)
    names = list(judges)
    print(f"{'type':22s}" + "".join(f"{n:>14s}" for n in names))
    for t in acc["ours"]:
        print(f"{t:22s}" + "".join(f"{acc[n][t]:14.3f}" for n in names))
    for n, r in rate.items():
        print(f"throughput {n:14s} {r:10.0f} verdicts/s")
    return acc, rate
