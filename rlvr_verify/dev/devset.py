"""The development set: other people's labelled cases (public graders' test suites), scored per source and per
answer class, ours beside math-verify and the cascade, in one run.

tests/data/verifier_devset.jsonl.gz (gzip: its long reasoning traces make it ~7 MB as text) holds (response, gold, expected, source, license, class); each case's source is
`repo@commit:path` (tests/data/VERIFIER_DEVSET_SOURCES.md). math-verify and the cascade run only in pool workers."""
import gzip
import json
import time
from collections import defaultdict
from pathlib import Path

from rlvr_verify.verify import verify

DEVSET = Path(__file__).resolve().parents[2] / "tests" / "data" / "verifier_devset.jsonl.gz"


def load_devset(path: Path = DEVSET) -> list[dict]:
    """The cases of a .jsonl or .jsonl.gz file."""
    path = Path(path)
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _pool_verdicts(cases, backend: str, workers: int) -> tuple[list[bool], float]:
    from rlvr_verify.pool import VerifierPool
    with VerifierPool(num_workers=workers, timeout_s=10.0, memory_mb=2048) as pool:
        pool.verify_batch(["$1$"] * workers, ["1"] * workers, backend=backend)  # imports before timing
        start = time.perf_counter()
        out = pool.verify_batch([c["response"] for c in cases], [c["gold"] for c in cases], backend=backend)
        elapsed = time.perf_counter() - start
    return [v.correct for v in out], len(cases) / max(elapsed * workers, 1e-9)


def is_policy(case: dict) -> bool:
    """A verdict that is one grader's policy rather than mathematics (string matching, a required format, a built-in
    tolerance), marked 'POLICY:' in its note: other graders, ours among them, may rightly decide otherwise."""
    return "POLICY:" in case.get("note", "")


def score_devset(cases, verdicts: dict[str, list[bool]]) -> dict[str, dict[str, dict]]:
    """{'source': {key: {n, backend: accuracy}}, 'class': {...}}; key 'ALL' is the whole set, 'ALL but policy' the
    set without the cases marked as one grader's policy."""
    out = {}
    for field in ("source_key", "class"):
        rows = defaultdict(lambda: defaultdict(int))
        for i, c in enumerate(cases):
            for key in (c[field], "ALL") + (() if is_policy(c) else ("ALL but policy",)):
                rows[key]["n"] += 1
                for name, v in verdicts.items():
                    rows[key][name] += v[i] == c["expected"]
        out[field] = {k: {"n": r["n"], **{name: r[name] / r["n"] for name in verdicts}}
                      for k, r in sorted(rows.items(), key=lambda kv: (kv[0].startswith("ALL"), kv[0]))}
    return out


def format_devset(table: dict, names: list[str], title: str) -> str:
    head = f"| {title:24s} | {'n':>4s} | " + " | ".join(f"{n:>11s}" for n in names) + " |"
    lines = [head, "|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|"]
    for key, r in table.items():
        lines.append(f"| {key:24s} | {r['n']:4d} | " + " | ".join(f"{r[n]:11.1%}" for n in names) + " |")
    return "\n".join(lines)


def run_devset(workers: int = 2, path: Path = DEVSET, misses: Path | None = None,
               backends=("math_verify", "cascade")) -> dict:
    cases = load_devset(path)
    start = time.perf_counter()
    verdicts = {"ours": [verify(c["response"], c["gold"]).correct for c in cases]}
    rates = {"ours (in-process)": len(cases) / max(time.perf_counter() - start, 1e-9)}
    for backend in backends:
        verdicts[backend], rates[f"{backend} (pool, per worker)"] = _pool_verdicts(cases, backend, workers)
    names = list(verdicts)
    table = score_devset(cases, verdicts)
    print(f"development set: {len(cases)} labelled cases from {len(table['source_key']) - 2} sources ({path.name}), "
          f"{sum(map(is_policy, cases))} of them one grader's policy")
    print(format_devset(table["source_key"], names, "source"))
    print(format_devset(table["class"], names, "answer class"))
    for name, rate in rates.items():
        print(f"dev set verdicts/s, {name:32s} {rate:10,.0f}")
    if misses:
        rows = [dict(c, **{n: verdicts[n][i] for n in names}) for i, c in enumerate(cases)
                if any(verdicts[n][i] != c["expected"] for n in names)]
        Path(misses).write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"wrote {len(rows)} cases some verifier got wrong to {misses}")
    return {"table": table, "rates": rates, "verdicts": verdicts}
