"""RandomCalculation (Wu et al. 2025, Algorithm 1): random arithmetic expressions with exactly `level` operations,
exact Fraction answers and step-by-step solutions. Contamination-free by construction; deterministic per
(seed, level, index); splits assigned by a stable hash of the canonical form so no expression is in two splits."""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator, Sequence

from data_gen.expression import (BinOp, Leaf, Node, OPS, answer_decimal, answer_latex, answer_text, evaluate,
                                 render)

PAPER_PREFIX = ("Evaluate this LaTeX numerical expression step-by-step and give the final value within "
                "\\boxed{{}}: {problem}")
SPLITS = ("train", "validation", "test")
MAX_LEVEL = 20
FAMILY_DEFAULTS = {"paper": dict(max_int=100, operators="+-*/", leaf_kinds=("int", "frac", "square", "cube")),
                   "easy": dict(max_int=99, operators="+-", leaf_kinds=("int",))}


@dataclass(frozen=True)
class Problem:
    id: str
    level: int
    problem: str          # LaTeX
    problem_text: str     # plain text, also the canonical form
    answer: str           # exact: '42' or '-3/7'
    answer_decimal: str   # 15 significant digits, integers exact
    solution: str         # steps, final answer in \boxed{} (LaTeX convention: -\frac{3}{7})
    split: str


@dataclass
class RandomCalculationConfig:
    """None fields take the family's default (see FAMILY_DEFAULTS)."""
    family: str = "paper"
    max_int: int | None = None
    operators: str | None = None
    leaf_kinds: tuple[str, ...] | None = None
    max_abs: int = 10 ** 12   # bound on every intermediate numerator/denominator
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
    template: str = PAPER_PREFIX
    digits: int = 15

    def __post_init__(self):
        if self.family not in FAMILY_DEFAULTS:
            raise ValueError(f"family={self.family!r}; choose one of {sorted(FAMILY_DEFAULTS)}")
        for key, value in FAMILY_DEFAULTS[self.family].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        self.operators = "".join(str(self.operators).replace("x", "*").replace("×", "*").replace("÷", "/").split())
        bad = set(self.operators) - set(OPS)
        if bad or not self.operators:
            raise ValueError(f"operators={self.operators!r}; use a non-empty subset of '+-*/'")
        if self.max_int < 1:
            raise ValueError(f"max_int={self.max_int}; must be >= 1")
        bad_kinds = set(self.leaf_kinds) - {"int", "frac", "square", "cube"}
        if bad_kinds or not self.leaf_kinds:
            raise ValueError(f"leaf_kinds={self.leaf_kinds}; use a subset of int, frac, square, cube")
        fr = tuple(float(f) for f in self.split_fractions)
        if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1) > 1e-9:
            raise ValueError(f"split_fractions={self.split_fractions}; need 3 non-negative numbers summing to 1")
        self.split_fractions = fr


def stable_unit(*parts) -> float:
    """A number in [0, 1) from sha256 of the parts: stable across processes (unlike the salted hash())."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def item_rng(seed: int, level: int, index: int, family: str) -> random.Random:
    return random.Random(int(stable_unit("rc-item", family, seed, level, index) * 2 ** 64))


def split_of(canonical: str, fractions: Sequence[float] = (0.7, 0.15, 0.15)) -> str:
    """Split by a hash of the canonical form alone, so one expression can never land in two splits."""
    u, total = stable_unit("rc-split", canonical), 0.0
    for name, frac in zip(SPLITS, fractions):
        total += frac
        if u < total:
            return name
    return SPLITS[-1]


def random_leaf(rng: random.Random, cfg: RandomCalculationConfig) -> Leaf:
    kind = rng.choice(cfg.leaf_kinds)
    if kind == "frac":
        return Leaf("frac", rng.randint(1, cfg.max_int), rng.randint(2, cfg.max_int + 1))
    return Leaf(kind, rng.randint(0, cfg.max_int))


def _ok(x: Fraction, max_abs: int) -> bool:
    return abs(x.numerator) <= max_abs and x.denominator <= max_abs


def build(level: int, rng: random.Random, cfg: RandomCalculationConfig) -> tuple[Node, Fraction]:
    """A tree with exactly `level` operations: combine a level-j and a level-(level-1-j) subtree, operands randomly
    swapped. A node that divides by zero or exceeds max_abs is resampled (op/swap first, then one subtree at a time)."""
    if level == 0:
        leaf = random_leaf(rng, cfg)
        return leaf, leaf.value
    j = rng.randint(0, level - 1)
    left, lv = build(j, rng, cfg)
    right, rv = build(level - 1 - j, rng, cfg)
    for attempt in range(1_000_000):
        if attempt:  # resample one side only: cheaper than both, and still a fresh draw at this node
            if attempt % 2:
                left, lv = build(j, rng, cfg)
            else:
                right, rv = build(level - 1 - j, rng, cfg)
        for _ in range(8):
            op = rng.choice(cfg.operators)
            a, b, av, bv = (right, left, rv, lv) if rng.random() < 0.5 else (left, right, lv, rv)
            if op == "/" and bv == 0:
                continue
            value = av + bv if op == "+" else av - bv if op == "-" else av * bv if op == "*" else av / bv
            if _ok(value, cfg.max_abs):
                return BinOp(op, a, b), value
    raise RuntimeError(f"no valid level-{level} expression under max_abs={cfg.max_abs}; raise max_abs")


def _operand(x: Fraction, latex: bool) -> str:
    s = answer_latex(x) if latex else answer_text(x)
    return f"({s})" if x < 0 or (not latex and x.denominator != 1) else s


def solution_steps(node: Node, latex: bool = True) -> list[str]:
    """One line per operation, innermost (post-order) first: 'a op b = c' on the already computed values."""
    steps: list[str] = []

    def walk(n: Node) -> Fraction:
        if isinstance(n, Leaf):
            return n.value
        a, b = walk(n.left), walk(n.right)
        value = _apply(n.op, a, b)
        sym = OPS[n.op][1 if latex else 2]
        res = answer_latex(value) if latex else answer_text(value)
        steps.append(f"{_operand(a, latex)}{sym}{_operand(b, latex)} = {res}")
        return value

    walk(node)
    return steps


def _apply(op: str, a: Fraction, b: Fraction) -> Fraction:
    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[op]()


def make_solution(node: Node, value: Fraction, family: str) -> str:
    if family == "easy":
        return "\n".join(solution_steps(node, latex=False) + [f"\\boxed{{{answer_text(value)}}}"])
    lines = [f"Step {k}: ${s}$" for k, s in enumerate(solution_steps(node, latex=True), 1)]
    return "\n".join(lines + [f"The final value is $\\boxed{{{answer_latex(value)}}}$."])


def check_level(level: int) -> int:
    if not (isinstance(level, int) and 1 <= level <= MAX_LEVEL):
        raise ValueError(f"level={level!r}; must be an integer in 1..{MAX_LEVEL}")
    return level


def generate_problem(seed: int, level: int, index: int, config: RandomCalculationConfig | None = None) -> Problem:
    """The same (seed, level, index, family) always gives the same problem, in any process."""
    cfg = config or RandomCalculationConfig()
    check_level(level)
    node, value = build(level, item_rng(seed, level, index, cfg.family), cfg)
    text = render(node, latex=False)
    return Problem(id=f"rc-{cfg.family}-s{seed}-l{level}-i{index}", level=level, problem=render(node, latex=True),
                   problem_text=text, answer=answer_text(value), answer_decimal=answer_decimal(value, cfg.digits),
                   solution=make_solution(node, value, cfg.family), split=split_of(text, cfg.split_fractions))


def _level_stream(seed: int, level: int, cfg: RandomCalculationConfig, split: str | None) -> Iterator[Problem]:
    if split is not None and cfg.split_fractions[SPLITS.index(split)] == 0:
        raise ValueError(f"split={split!r} has fraction 0 in split_fractions={cfg.split_fractions}")
    seen: set[str] = set()
    index, misses = 0, 0
    while True:
        p = generate_problem(seed, level, index, cfg)
        index += 1
        if p.problem_text in seen or (split is not None and p.split != split):
            misses += 1
            if misses > 200_000:  # a small family (e.g. easy level 1, max_int 9) has run out of new expressions
                raise RuntimeError(f"level {level}: no new unique {split or ''} problem in 200000 draws; the "
                                   f"family has too few distinct expressions, raise max_int or the level")
            continue
        misses = 0
        seen.add(p.problem_text)
        yield p


def stream_problems(seed: int, levels: Sequence[int], config: RandomCalculationConfig | None = None,
                    split: str | None = "train") -> Iterator[Problem]:
    """Infinite, deterministic, unique per level, filtered to `split` (None: all); levels round-robin."""
    cfg = config or RandomCalculationConfig()
    if split is not None and split not in SPLITS:
        raise ValueError(f"split={split!r}; choose one of {SPLITS} or None")
    levels = [check_level(int(l)) for l in levels]
    if not levels:
        raise ValueError("levels is empty")
    streams = [_level_stream(seed, l, cfg, split) for l in levels]
    while True:
        for s in streams:
            yield next(s)


def generate_dataset(seed: int, levels: Sequence[int], per_level: int, config: RandomCalculationConfig | None = None,
                     split: str | None = None) -> list[Problem]:
    """per_level unique problems for each level, level by level."""
    cfg = config or RandomCalculationConfig()
    out: list[Problem] = []
    for level in levels:
        stream = _level_stream(seed, check_level(int(level)), cfg, split)
        out.extend(next(stream) for _ in range(per_level))
    return out


def format_prompt(problem: Problem, template: str = PAPER_PREFIX) -> str:
    return template.format(problem=problem.problem, problem_text=problem.problem_text)
