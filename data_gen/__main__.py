"""CLI: python -m data_gen {random-calculation,check,overlap,bench}. Bad input: one-line error, exit code 2."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from data_gen.random_calculation import (MAX_LEVEL, RandomCalculationConfig, _level_stream, check_level,
                                         generate_problem)


class UsageError(Exception):
    pass


def parse_levels(spec: str) -> list[int]:
    """'5', '1-10' or '1,3,5' -> levels in 1..MAX_LEVEL."""
    levels: list[int] = []
    try:
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            a, b = int(lo), int(hi or lo)
            if a > b:
                raise ValueError
            levels.extend(range(a, b + 1))
    except ValueError:
        raise UsageError(f"--levels {spec!r}: write a level, a range like 1-10 or a list like 1,3,5") from None
    bad = [l for l in levels if not 1 <= l <= MAX_LEVEL]
    if bad:
        raise UsageError(f"--levels {spec!r}: level {bad[0]} is out of range; levels are 1..{MAX_LEVEL}")
    return levels


def parse_fractions(spec: str) -> tuple[float, float, float]:
    try:
        fr = tuple(float(x) for x in spec.split(","))
    except ValueError:
        fr = ()
    if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1) > 1e-9:
        raise UsageError(f"--split-fractions {spec!r}: give train,validation,test as 3 numbers summing to 1")
    return fr


def cmd_generate(args) -> int:
    from data_gen.io import write_jsonl, write_parquet
    levels = parse_levels(args.levels)
    if args.per_level < 1:
        raise UsageError(f"--per-level {args.per_level}: must be a positive count")
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats or set(formats) - {"jsonl", "parquet"}:
        raise UsageError(f"--format {args.format!r}: use jsonl, parquet or jsonl,parquet")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--out {args.out}: cannot create the directory ({e.strerror})") from None
    if not os.access(out, os.W_OK):
        raise UsageError(f"--out {args.out}: directory is not writable")
    cfg = RandomCalculationConfig(family=args.family, split_fractions=parse_fractions(args.split_fractions),
                                  max_int=args.max_int, operators=args.operators)
    problems = []
    for level in tqdm(levels, desc="levels", disable=args.quiet):
        stream = _level_stream(args.seed, level, cfg, None)
        problems.extend(next(stream) for _ in tqdm(range(args.per_level), desc=f"level {level}", leave=False,
                                                  disable=args.quiet))
    stem = f"random_calculation_{args.family}"
    try:
        if "jsonl" in formats:
            write_jsonl(problems, out / f"{stem}.jsonl")
        if "parquet" in formats:
            write_parquet(problems, out / f"{stem}.parquet")
    except OSError as e:
        raise UsageError(f"--out {args.out}: cannot write ({e.strerror})") from None
    counts = {s: sum(p.split == s for p in problems) for s in ("train", "validation", "test")}
    print(f"wrote {len(problems)} problems to {out}/{stem}.{{{','.join(formats)}}} splits={counts}")
    print(f"check them with: python -m data_gen check {out / (stem + '.' + formats[0])}")
    return 0


def _nearby_datasets(path: Path) -> str:
    """'; that directory holds A, B' -- `random-calculation` names its files random_calculation_<family>.*"""
    found = sorted(p.name for p in path.parent.glob("*") if p.suffix in (".jsonl", ".parquet")) \
        if path.parent.is_dir() else []
    return f"; {path.parent} holds {', '.join(found)}" if found else ""


def cmd_check(args) -> int:
    from data_gen.check import check_records
    from data_gen.io import read_records
    if not Path(args.file).is_file():
        raise UsageError(f"check FILE: {args.file} does not exist{_nearby_datasets(Path(args.file))}")
    records = read_records(args.file)
    errors = check_records(tqdm(records, desc="checking", disable=args.quiet))
    for e in errors[:50]:
        print(e)
    print(f"{len(records)} records, {len(errors)} problems")
    return 1 if errors else 0


def cmd_overlap(args) -> int:
    from data_gen.io import read_records
    from data_gen.overlap import ngram_overlap, problem_texts
    for flag, path in (("--train", args.train), ("--eval", args.eval)):
        if not Path(path).is_file():
            raise UsageError(f"{flag} {path}: file does not exist")
    if args.n < 1:
        raise UsageError(f"--n {args.n}: must be >= 1")
    train = problem_texts(read_records(args.train), args.train, args.field)
    evals = problem_texts(read_records(args.eval), args.eval, args.field)
    print(json.dumps(ngram_overlap(train, evals, args.n)))
    return 0


def cmd_bench(args) -> int:
    levels = parse_levels(args.levels)
    cfg = RandomCalculationConfig(family=args.family)
    for level in levels:
        start = time.perf_counter()
        for i in range(args.count):
            generate_problem(args.seed, level, i, cfg)
        rate = args.count / (time.perf_counter() - start)
        print(f"level {level:2d}: {rate:9.0f} problems/s ({args.family}, {args.count} problems, one core)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m data_gen", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("random-calculation", help="generate a RandomCalculation dataset")
    g.add_argument("--levels", default="1-10", help="a level, a range like 1-10 or a list like 1,3,5 (operations)")
    g.add_argument("--per-level", type=int, default=1000, help="problems per level")
    g.add_argument("--seed", type=int, default=0, help="the dataset is a pure function of the seed")
    g.add_argument("--out", required=True,
                   help="directory; writes random_calculation_<family>.jsonl / .parquet there")
    g.add_argument("--family", choices=["paper", "easy"], default="paper",
                   help="paper: Wu et al.'s LaTeX problems; easy: two small operands (the tiny model's)")
    g.add_argument("--format", default="jsonl,parquet", help="jsonl, parquet or both")
    g.add_argument("--split-fractions", default="0.7,0.15,0.15", help="train,validation,test (sum 1)")
    g.add_argument("--max-int", type=int, default=None, help="largest operand (default: the family's)")
    g.add_argument("--operators", default=None, help='operators to draw from, e.g. "+-" (default: the family\'s)')
    g.add_argument("--quiet", action="store_true", help="no progress bars")
    g.set_defaults(func=cmd_generate)
    c = sub.add_parser("check", help="recompute every answer, report duplicates and split leaks")
    c.add_argument("file", help="a .jsonl or .parquet file written by random-calculation")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_check)
    o = sub.add_parser("overlap", help="character n-gram overlap (contamination audit)")
    o.add_argument("--train", required=True, help="training problems (.jsonl / .parquet)")
    o.add_argument("--eval", required=True, help="evaluation problems, e.g. rlvr/data/eval/math500.jsonl")
    o.add_argument("--n", type=int, default=8, help="n-gram length in characters")
    o.add_argument("--field", default=None,
                   help="the problem-text field (default: problem_text, problem or question, whichever the file has)")
    o.set_defaults(func=cmd_overlap)
    b = sub.add_parser("bench", help="problems/second per level on one core")
    b.add_argument("--levels", default="1-20", help="levels to time")
    b.add_argument("--count", type=int, default=500, help="problems per level")
    b.add_argument("--seed", type=int, default=0, help="generator seed")
    b.add_argument("--family", choices=["paper", "easy"], default="paper", help="problem family")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
