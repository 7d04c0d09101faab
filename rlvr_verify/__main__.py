"""CLI: check one answer, score a JSONL file, or run the bench."""
import argparse
import json
import sys
from pathlib import Path
from collections import Counter
from dataclasses import asdict

from data_gen.io import RecordError, iter_records
from rlvr_verify.verify import verify


def _options(args):
    return {"extract": args.extract, "rel_tol": args.rel_tol, "percent": args.percent, "mode": args.mode}


def cmd_check(args):
    print(json.dumps(asdict(verify(args.response, args.gold, **_options(args)))))


def cmd_score(args):
    verdicts, errors = [], 0
    out = open(args.out, "w") if args.out else None
    for lineno, row in iter_records(args.file):
        try:
            if isinstance(row, RecordError):
                raise row
            response, gold = row["response"], row["gold"]
            if not isinstance(response, str) or not isinstance(gold, str):
                raise TypeError("response and gold must be strings")
        except (RecordError, KeyError, TypeError) as exc:
            errors += 1
            print(f"{args.file}:{lineno}: skipped malformed line ({type(exc).__name__}: {exc}); "
                  "each line must be a JSON object with string fields 'response' and 'gold'", file=sys.stderr)
            continue
        v = verify(response, gold, **_options(args))
        verdicts.append(v)
        if out:
            out.write(json.dumps({"line": lineno, **asdict(v)}) + "\n")
    if out:
        out.close()
    reasons = Counter(v.reason for v in verdicts)
    n = len(verdicts)
    print(f"{'items':16s}{n:8d}")
    print(f"{'correct':16s}{sum(v.correct for v in verdicts):8d}  ({sum(v.correct for v in verdicts) / max(n, 1):.3f})")
    for reason, count in sorted(reasons.items()):
        print(f"{reason:16s}{count:8d}")
    print(f"{'malformed lines':16s}{errors:8d}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m rlvr_verify")
    sub = ap.add_subparsers(dest="cmd", required=True)
    check = sub.add_parser("check", help="verify one response against one gold answer")
    check.add_argument("--gold", required=True)
    check.add_argument("--response", required=True)
    score = sub.add_parser("score", help="verify a JSONL file with fields response, gold")
    score.add_argument("file")
    score.add_argument("--out")
    for p in (check, score):
        p.add_argument("--extract", default="any", choices=["boxed", "boxed_or_marker", "any"])
        p.add_argument("--rel-tol", type=float, default=1e-9)
        p.add_argument("--percent", default="strip", choices=["strip", "fraction"])
        p.add_argument("--mode", default="exact", choices=["exact", "random_calculation"])
    bench = sub.add_parser("bench", help="accuracy per answer class and verdicts/s, ours vs math-verify")
    bench.add_argument("--n", type=int, default=20_000, help="differential corpus size (default 20,000; 0: only the development set)")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--workers", type=int, default=2, help="pool workers for math-verify")
    bench.add_argument("--mv-cache", type=Path, help="JSON file keeping math-verify's verdicts between runs")
    bench.add_argument("--triage", type=Path, help="write every disagreement to this JSONL")
    bench.add_argument("--no-tables", action="store_true", help="skip the labeled tables")
    bench.add_argument("--no-adversarial", action="store_true", help="skip the adversarial inputs")
    bench.add_argument("--no-devset", action="store_true", help="skip the development set (other people's cases)")
    bench.add_argument("--devset-misses", type=Path, help="write the dev-set cases some verifier got wrong here")
    args = ap.parse_args(argv)
    if args.cmd == "bench":
        from rlvr_verify.dev.bench import run_bench
        from rlvr_verify.mv_backend import math_verify_missing

        missing = math_verify_missing("python -m rlvr_verify bench (math-verify is its reference column)")
        if missing:
            print(f"rlvr_verify: error: {missing}", file=sys.stderr)
            return 2
        run_bench(args.n, args.seed, args.workers, args.mv_cache, args.triage, not args.no_tables,
                  not args.no_adversarial, not args.no_devset, args.devset_misses)
    else:
        {"check": cmd_check, "score": cmd_score}[args.cmd](args)


if __name__ == "__main__":
    raise SystemExit(main())
