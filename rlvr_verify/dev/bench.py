"""`python -m rlvr_verify bench`: ours vs math-verify in one run, both scored against known labels.

Three parts: the labeled tables (tests/data/verifier_cases.jsonl + verifier_regressions.jsonl) per type; the seeded
differential corpus (rlvr_verify/dev/corpus.py, >= 20,000 pairs) per answer class with disagreement counts and verdicts/s;
adversarial inputs through the killable pool (no hang past timeout + 1 s, no code executed).
math-verify runs only inside VerifierPool workers (backend='math_verify'), never in this process."""
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from rlvr_verify.verify import verify

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
TABLES = [DATA / "verifier_cases.jsonl", DATA / "verifier_regressions.jsonl"]


def load_cases(paths=TABLES):
    rows = []
    for path in paths:
        if Path(path).exists():
            rows += [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    return rows


def _accuracy(cases, verdicts) -> dict[str, float]:
    hits, totals = defaultdict(int), defaultdict(int)
    for c, v in zip(cases, verdicts):
        hits[c["type"]] += v == c["expected"]
        totals[c["type"]] += 1
    return {t: hits[t] / totals[t] for t in sorted(totals)} | {"ALL": sum(hits.values()) / max(len(cases), 1)}


def bench_tables(workers: int = 2, cache: Path | None = None) -> dict:
    """Per-type accuracy on the hand-labeled tables, ours and math-verify (its verdicts cached like the corpus')."""
    from rlvr_verify.dev.corpus import Pair
    from rlvr_verify.dev.differential import cached_math_verify
    cases = load_cases()
    ours = [verify(c["response"], c["gold"]).correct for c in cases]
    pairs = [Pair(c["type"], "table", c["response"], c["gold"], c["expected"]) for c in cases]
    theirs, _ = cached_math_verify(pairs, cache, workers)
    acc = {"ours": _accuracy(cases, ours), "math-verify": _accuracy(cases, theirs)}
    print(f"labeled tables ({len(cases)} cases): accuracy per type")
    print(f"{'type':22s}{'ours':>10s}{'math-verify':>14s}")
    for t in acc["ours"]:
        print(f"{t:22s}{acc['ours'][t]:10.3f}{acc['math-verify'][t]:14.3f}")
    return acc


ADVERSARIAL = [
    "\\boxed{10^{10^{10^{10}}}}", "$9**9**9**9$", "\\((10^{1000000})!\\)", "The answer is $100000!$.",
    "\\[2^{2^{2^{2^{2^{2}}}}}\\]", "$" + "(" * 5000 + "1" + ")" * 5000 + "$", "x" * 1_000_000 + " \\boxed{1}",
    "1" * 1_000_000, "$\\frac{1}{0}$", "$1e999999$", "\\boxed{" + "{" * 300 + "1" + "}" * 300 + "}",
    "$$" + "\\sqrt{" * 200 + "2" + "}" * 200 + "$$", "Answer: " + "9" * 5000 + "^" + "9" * 5000,
    "$\\begin{pmatrix}" + " & ".join(["1"] * 3000) + "\\end{pmatrix}$",
    "\\boxed{" + "10000!*" * 150 + "1}", "\\boxed{1 km^{99999999}}", "$\\frac{x^{99999999}}{x^{99999998}}$",
]


def _code_payloads(target: Path) -> list[str]:
    t = str(target)
    return [f"$__import__('os').system('touch {t}')$", f"\\boxed{{open('{t}','w')}}",
            f"The answer is $exec(\"open('{t}','w')\")$.",  # safe: payload text for the verifier, never run
            f"\\(eval(\"open('{t}','w')\")\\)",  # safe: payload text for the verifier, never run
            f"Answer: (lambda: __import__('os').system('touch {t}'))()"]


def bench_adversarial(timeout_s: float = 2.0) -> dict:
    """Every backend, every adversarial input, through the pool: latency bound (the deadline starts once a worker
    is up, as in VerifierPool) and no side effects."""
    from rlvr_verify.pool import VerifierPool
    target = Path(tempfile.mkdtemp()) / "pwned"
    inputs = ADVERSARIAL + _code_payloads(target)
    report = {}
    with VerifierPool(num_workers=1, timeout_s=timeout_s, memory_mb=1024) as pool:
        for backend in ("rlvr", "math_verify"):
            pool.verify_batch(["$1$"], ["1"], backend=backend)  # imports done before timing
            worst, bad = 0.0, 0
            for text in inputs:
                pool.verify_batch(["$1$"], ["1"], backend=backend)  # a worker restarted after a kill is up again
                start = time.perf_counter()
                v = pool.verify_batch([text], ["1"], backend=backend)[0]
                worst = max(worst, time.perf_counter() - start)
                bad += v.correct and text not in ("x" * 1_000_000 + " \\boxed{1}",)
            report[backend] = {"inputs": len(inputs), "worst_s": worst, "within_deadline": worst <= timeout_s + 1.0,
                               "wrongly_correct": bad, "code_ran": target.exists()}
    for backend, r in report.items():
        print(f"adversarial {backend:12s} {r['inputs']} inputs, worst {r['worst_s']:.2f} s "
              f"(limit {timeout_s + 1.0:.1f} s) safe={r['within_deadline'] and not r['code_ran']}, "
              f"code ran: {r['code_ran']}")
    return report


def run_bench(n: int = 20_000, seed: int = 0, workers: int = 2, cache: Path | None = None,
              triage: Path | None = None, tables: bool = True, adversarial: bool = True, devset: bool = True,
              devset_misses: Path | None = None) -> dict:
    from rlvr_verify.dev.differential import run_differential
    out = {}
    if devset:
        from rlvr_verify.dev.devset import run_devset
        out["devset"] = run_devset(workers, misses=devset_misses)
    if n <= 0:
        return out
    if tables:
        out["tables"] = bench_tables(workers, cache)
    out["differential"] = run_differential(n, seed, workers, cache, triage)
    if adversarial:
        out["adversarial"] = bench_adversarial()
    return out
