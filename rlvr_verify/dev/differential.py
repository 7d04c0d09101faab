"""Differential testing: ours vs math-verify on the generated corpus, both scored against the built-in truth.

    python -m rlvr_verify bench                       # 20,000 pairs, per-class accuracy, verdicts/s, disagreements
    python -m rlvr_verify bench --triage out.jsonl    # also write every disagreement for triage

math-verify runs only in VerifierPool workers (backend='math_verify'): it hands text to sympy's parser."""
import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path

from rlvr_verify.dev.corpus import Pair, generate
from rlvr_verify.verify import verify


def run_ours(pairs: list[Pair]) -> tuple[list[bool], float]:
    """Our verdicts, in-process (the parser never evaluates text); returns verdicts and verdicts/s."""
    start = time.perf_counter()
    out = [verify(p.response, p.gold).correct for p in pairs]
    return out, len(pairs) / max(time.perf_counter() - start, 1e-9)


def run_math_verify(pairs: list[Pair], workers: int = 2, timeout_s: float = 10.0) -> tuple[list[bool], float]:
    """math-verify's verdicts through the killable pool; verdicts/s is per worker so it compares with run_ours."""
    from rlvr_verify.pool import VerifierPool
    with VerifierPool(num_workers=workers, timeout_s=timeout_s, memory_mb=2048) as pool:
        pool.verify_batch(["$1$"] * workers, ["1"] * workers, backend="math_verify")  # imports, warm-up
        start = time.perf_counter()
        verdicts = pool.verify_batch([p.response for p in pairs], [p.gold for p in pairs], backend="math_verify")
        elapsed = time.perf_counter() - start
    return [v.correct for v in verdicts], len(pairs) / max(elapsed * workers, 1e-9)


def corpus_key(pairs: list[Pair]) -> str:
    return hashlib.sha256("".join(p.to_json() for p in pairs).encode()).hexdigest()[:16]


def _pair_key(p: Pair) -> str:
    return hashlib.sha256(json.dumps([p.response, p.gold]).encode()).hexdigest()[:20]


def cached_math_verify(pairs, cache: Path | None, workers: int = 2, chunk: int = 500):
    """math-verify's verdicts do not change when ours does: a per-pair cache file keeps them between runs (saved
    every `chunk` pairs, so an interrupted run resumes), and only new pairs are sent to it.
    Returns verdicts and verdicts/s (None when nothing new had to be run)."""
    saved = json.loads(cache.read_text()) if cache and cache.exists() else {}
    todo = [p for p in pairs if _pair_key(p) not in saved]
    rates = []
    for start in range(0, len(todo), chunk):
        part = todo[start:start + chunk]
        verdicts, rate = run_math_verify(part, workers)
        rates.append((len(part), rate))
        saved.update({_pair_key(p): v for p, v in zip(part, verdicts)})
        if cache:
            cache.write_text(json.dumps(saved))
    rate = sum(n for n, _ in rates) / sum(n / r for n, r in rates) if rates else None
    return [saved[_pair_key(p)] for p in pairs], rate


def per_class(pairs, ours, theirs) -> dict[str, dict]:
    """Per answer class: n, accuracy of both, disagreements and who was right in them."""
    rows = defaultdict(lambda: defaultdict(int))
    for p, a, b in zip(pairs, ours, theirs):
        for cls in (p.cls, "ALL"):
            r = rows[cls]
            r["n"] += 1
            r["ours_ok"] += a == p.expected
            r["mv_ok"] += b == p.expected
            r["disagree"] += a != b
            r["mv_right"] += a != b and b == p.expected
            r["ours_right"] += a != b and a == p.expected
            r["both_wrong"] += a == b and a != p.expected
    return {k: dict(v) for k, v in sorted(rows.items(), key=lambda kv: (kv[0] == "ALL", kv[0]))}


def format_table(table: dict) -> str:
    head = f"| {'class':20s} | {'n':>6s} | {'ours':>6s} | {'math-verify':>11s} | {'disagree':>8s} " \
           f"| {'mv right':>8s} | {'ours right':>10s} | {'both wrong':>10s} |"
    lines = [head, "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"]
    for cls, r in table.items():
        lines.append(f"| {cls:20s} | {r['n']:6d} | {r['ours_ok'] / r['n']:6.1%} | {r['mv_ok'] / r['n']:11.1%} "
                     f"| {r['disagree']:8d} | {r['mv_right']:8d} | {r['ours_right']:10d} | {r['both_wrong']:10d} |")
    return "\n".join(lines)


def write_disagreements(pairs, ours, theirs, path) -> int:
    """Every pair where the two verifiers differ (plus where both are wrong), for triage by hand."""
    rows = [dict(p.__dict__, ours=a, math_verify=b) for p, a, b in zip(pairs, ours, theirs)
            if a != b or a != p.expected]
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def measure_speed(pairs: list[Pair], workers: int = 2, sample: int = 2000) -> dict[str, float]:
    """Verdicts/s on the same sample in this run: ours in-process, ours through the pool, math-verify through the
    pool (the pool rates are per worker, so the ratio does not depend on how many cores were free). Each pool first
    verifies as many other pairs of the corpus: the steady state of a training run's long-lived workers, where
    both verifiers' lazy imports, compiled patterns and sympy's caches are in place (a fresh worker is slower for
    its first few hundred items, math-verify more so than ours)."""
    step = max(1, len(pairs) // sample)
    part, warm = pairs[::step], pairs[step // 2::step]
    from rlvr_verify.pool import VerifierPool
    rates = {"ours (in-process)": run_ours(part)[1]}
    for name, backend in (("ours (pool)", "rlvr"), ("math-verify (pool)", "math_verify")):
        with VerifierPool(num_workers=workers, timeout_s=10.0, memory_mb=2048) as pool:
            pool.verify_batch([p.response for p in warm], [p.gold for p in warm], backend=backend)
            start = time.perf_counter()
            pool.verify_batch([p.response for p in part], [p.gold for p in part], backend=backend)
            rates[name] = len(part) / max((time.perf_counter() - start) * workers, 1e-9)
    return rates


def run_differential(n: int = 20_000, seed: int = 0, workers: int = 2, cache: Path | None = None,
                     triage: Path | None = None) -> dict:
    pairs = generate(n, seed)
    ours, ours_rate = run_ours(pairs)
    theirs, theirs_rate = cached_math_verify(pairs, cache, workers)
    table = per_class(pairs, ours, theirs)
    print(f"differential corpus: {len(pairs)} pairs, seed {seed}, key {corpus_key(pairs)}")
    print(format_table(table))
    rates = measure_speed(pairs, workers)
    print(f"verdicts/s on the whole corpus, ours in-process: {ours_rate:,.0f}")
    if theirs_rate:  # only when math-verify had to run (not from the cache): its rate over every pair
        print(f"verdicts/s on the corpus pairs not in its cache, math-verify (pool, per worker): {theirs_rate:,.0f}")
    for name, rate in rates.items():
        print(f"verdicts/s on a {len(pairs[::max(1, len(pairs) // 2000)])}-pair sample, {name:20s} {rate:10,.0f}")
    ratio = rates["ours (pool)"] / rates["math-verify (pool)"]
    print(f"speed ratio ours/math-verify (both in the pool, per worker, each warmed on as many other pairs): {ratio:.1f}x")
    if triage:
        print(f"wrote {write_disagreements(pairs, ours, theirs, triage)} disagreements/both-wrong rows to {triage}")
    return {"table": table, "ours_rate": ours_rate, "rates": rates, "ratio": ratio}
