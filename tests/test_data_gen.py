"""RandomCalculation: answers re-derived by an independent parser of the rendered strings, determinism, uniqueness,
split disjointness, continuous reward (Eq. 2) on hand-computed cases."""
import json
import os
import re
import subprocess
import sys
from fractions import Fraction

import pytest

from data_gen.check import check_records, evaluate_string, splits_disjoint
from data_gen.expression import answer_decimal, answer_latex, answer_text
from data_gen.io import as_records
from data_gen.random_calculation import (PAPER_PREFIX, RandomCalculationConfig, format_prompt, generate_dataset,
                                         generate_problem, split_of, stream_problems)
from data_gen.reward import continuous_reward, parse_number

PAPER = RandomCalculationConfig()
EASY = RandomCalculationConfig(family="easy")


def binary_ops(text: str) -> int:
    """Binary operators are spaced in the plain form; fraction leaves are written '3/4' without spaces."""
    return sum(text.count(f" {op} ") for op in "+-*/")


# ---------- the independent parser, checked on hand-computed strings ----------
@pytest.mark.parametrize("s, expected", [
    ("2 + 3 * 4", Fraction(14)), ("(2 + 3) * 4", Fraction(20)), ("10 - 4 - 3", Fraction(3)),
    ("10 - (4 - 3)", Fraction(9)), ("12 / 3 / 2", Fraction(2)), ("12 / (3 / 2)", Fraction(8)),
    ("3/4 + 5^2", Fraction(103, 4)), ("2 / (3/4)", Fraction(8, 3)), ("2^3 * 3", Fraction(24)),
    ("-3 + 1", Fraction(-2)), ("\\frac{3}{4} \\times 8", Fraction(6)), ("7^{2} \\div \\frac{1}{2}", Fraction(98)),
    ("-\\frac{3}{7}", Fraction(-3, 7)), ("(1 - 5^{3}) \\div 4", Fraction(-31)),
])
def test_parser_hand_cases(s, expected):
    assert evaluate_string(s) == expected


def test_parser_agrees_with_sympy_on_plain_text():
    """A third opinion on the parser: sympy's exact rationals (test-only oracle on our own generated strings)."""
    sympy = pytest.importorskip("sympy")
    for p in generate_dataset(11, [1, 3, 6], 40, PAPER):
        expr = sympy.parse_expr(p.problem_text.replace("^", "**"), evaluate=True)
        assert sympy.Rational(expr) == sympy.Rational(evaluate_string(p.problem_text).numerator,
                                                      evaluate_string(p.problem_text).denominator)


@pytest.mark.parametrize("bad", ["2 +", "(2", "2 ) ", "\\frac{1}{0}", "3 / 0", "import os"])
def test_parser_rejects(bad):
    with pytest.raises((ValueError, ZeroDivisionError)):
        evaluate_string(bad)


def test_answer_rendering_hand_cases():
    assert answer_text(Fraction(-3, 7)) == "-3/7" and answer_latex(Fraction(-3, 7)) == "-\\frac{3}{7}"
    assert answer_text(Fraction(42)) == answer_latex(Fraction(42)) == "42"
    assert answer_decimal(Fraction(12345678901234567890)) == "12345678901234567890"
    assert answer_decimal(Fraction(1, 3)) == "0.333333333333333"
    assert answer_decimal(Fraction(-1, 4)) == "-0.25"
    assert answer_decimal(Fraction(20, 3)) == "6.66666666666667"


# ---------- every generated answer re-derived from the rendered strings ----------
def _assert_correct(p, cfg):
    value = evaluate_string(p.problem)
    assert evaluate_string(p.problem_text) == value, p
    assert p.answer == answer_text(value) and parse_number(p.answer) == value
    assert abs(Fraction(p.answer_decimal) - value) <= abs(value) * Fraction(1, 10 ** 14) + Fraction(1, 10 ** 300)
    assert binary_ops(p.problem_text) == p.level, p
    latex_ops = p.problem.count(" + ") + p.problem.count(" - ") + p.problem.count("\\times") + p.problem.count("\\div")
    assert latex_ops == p.level, p
    boxed = re.findall(r"\\boxed\{(.*)\}", p.solution)
    assert boxed and evaluate_string(boxed[-1]) == value
    assert len([l for l in p.solution.splitlines() if "=" in l]) == p.level


@pytest.mark.parametrize("level", range(1, 11))
def test_paper_levels_1_to_10_answers(level):
    for p in generate_dataset(7, [level], 2000, PAPER):
        _assert_correct(p, PAPER)


def test_paper_levels_11_to_20_answers():
    for p in generate_dataset(3, range(11, 21), 60, PAPER):
        _assert_correct(p, PAPER)


def test_easy_family_answers_and_shape():
    problems = generate_dataset(1, [1, 2, 3], 2000, EASY)
    for p in problems:
        _assert_correct(p, EASY)
        assert re.fullmatch(r"[0-9 +\-()]+", p.problem_text), p.problem_text
        assert p.problem == p.problem_text
        assert all(int(n) <= 99 for n in re.findall(r"\d+", p.problem_text))
    level1 = [p for p in problems if p.level == 1]
    assert {op for p in level1 for op in "+-" if f" {op} " in p.problem_text} == {"+", "-"}


def test_curriculum_knobs():
    cfg = RandomCalculationConfig(family="easy", max_int=9, operators="+-*")
    problems = generate_dataset(0, [2], 500, cfg)
    assert all(int(n) <= 9 for p in problems for n in re.findall(r"\d+", p.problem_text))
    assert any(" * " in p.problem_text for p in problems)
    assert not any(" / " in p.problem_text for p in problems)
    with pytest.raises(ValueError, match="operators"):
        RandomCalculationConfig(operators="+%")
    with pytest.raises(ValueError, match="level"):
        generate_problem(0, 0, 0)
    with pytest.raises(ValueError, match="level"):
        generate_problem(0, 21, 0)


def test_intermediate_bound_respected():
    cfg = RandomCalculationConfig(max_abs=10 ** 6)
    for p in generate_dataset(5, [8], 300, cfg):
        for line in p.solution.splitlines()[:-1]:
            result = evaluate_string(line.split("= ")[-1].rstrip("$"))
            assert abs(result.numerator) <= 10 ** 6 and result.denominator <= 10 ** 6, line


def test_paper_uses_every_leaf_kind_and_operator():
    text = " ".join(p.problem for p in generate_dataset(2, [4], 300, PAPER))
    for token in ("\\frac{", "^{2}", "^{3}", "\\times", "\\div", " + ", " - "):
        assert token in text, token


# ---------- determinism, uniqueness, splits ----------
def test_deterministic_per_triple_regardless_of_order():
    triples = [(0, 5, 3), (1, 2, 0), (0, 10, 99)]
    forward = [generate_problem(*t) for t in triples]
    generate_dataset(0, [5], 50)
    assert [generate_problem(*t) for t in reversed(triples)][::-1] == forward
    assert generate_problem(0, 5, 3) != generate_problem(0, 5, 4)
    assert generate_problem(0, 5, 3) != generate_problem(1, 5, 3)


def test_deterministic_across_processes():
    code = ("import json,dataclasses;from data_gen.random_calculation import generate_problem as g;"
            "print(json.dumps([dataclasses.asdict(g(s,l,i)) for s,l,i in [(0,5,3),(9,10,7),(2,1,0)]]))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=os.path.dirname(os.path.dirname(__file__)))
    expected = [as_records([generate_problem(s, l, i)])[0] for s, l, i in [(0, 5, 3), (9, 10, 7), (2, 1, 0)]]
    assert json.loads(out.stdout) == expected


def test_unique_and_splits_disjoint():
    problems = generate_dataset(0, [1], 1500, EASY)  # easy level 1 has few distinct expressions: forces skips
    texts = [p.problem_text for p in problems]
    assert len(set(texts)) == len(texts)
    records = as_records(problems)
    assert splits_disjoint(records) and check_records(records) == []
    counts = {s: sum(p.split == s for p in problems) for s in ("train", "validation", "test")}
    assert abs(counts["train"] / len(problems) - 0.7) < 0.05
    for p in problems:
        assert p.split == split_of(p.problem_text)


def test_split_disjointness_checker_can_fail():
    recs = as_records(generate_dataset(0, [2], 5, EASY))
    recs.append(dict(recs[0], split="test" if recs[0]["split"] != "test" else "train", id="copy"))
    assert not splits_disjoint(recs)


def test_stream_filters_split_and_round_robins():
    stream = stream_problems(0, [1, 2], EASY, split="test")
    items = [next(stream) for _ in range(40)]
    assert all(p.split == "test" for p in items)
    assert [p.level for p in items[:4]] == [1, 2, 1, 2]
    assert len({p.problem_text for p in items}) == 40
    again = stream_problems(0, [1, 2], EASY, split="test")
    assert [next(again) for _ in range(40)] == items
    train = {p.problem_text for p, _ in zip(stream_problems(0, [1, 2], EASY, split="train"), range(300))}
    assert not train & {p.problem_text for p in items}


def test_prompt_template():
    p = generate_problem(0, 2, 0)
    prompt = format_prompt(p)
    assert prompt == ("Evaluate this LaTeX numerical expression step-by-step and give the final value within "
                      "\\boxed{}: " + p.problem)
    assert format_prompt(p, "Q: {problem_text}\nA:") == f"Q: {p.problem_text}\nA:"
    assert PAPER.template == PAPER_PREFIX


# ---------- continuous reward (Eq. 2) ----------
def test_reward_exact_match_is_one():
    assert continuous_reward("-3/7", Fraction(-3, 7)) == 1.0
    assert continuous_reward(42, "42") == 1.0
    assert continuous_reward("-\\frac{3}{7}", "-3/7") == 1.0


def test_reward_far_away_is_zero():
    assert continuous_reward(1000, 1) == 0.0
    assert continuous_reward("-5", "5") == 0.0


def test_reward_worked_examples():
    # a=10.5, b=10: |a-b|=0.5, rel=0.5/10.000001; r = 1 - 0.25/10.000001 - 0.25
    assert continuous_reward("10.5", 10) == pytest.approx(1 - 0.25 / 10.000001 - 0.25, abs=1e-12)
    # a=1.1, b=1: diff 0.1 -> r = 1 - 0.05/1.000001 - 0.05
    assert continuous_reward(1.1, 1) == pytest.approx(1 - 0.05 / 1.000001 - 0.05, abs=1e-9)
    # b=0, a=1e-7: rel=1e-7/1e-6=0.1 -> r = 1 - 0.05 - 0.5e-7
    assert continuous_reward("0.0000001", 0) == pytest.approx(1 - 0.05 - 0.5e-7, abs=1e-12)
    # 15-digit decimal of 20/3 against the exact fraction: nearly 1
    assert 1 - continuous_reward("6.66666666666667", "20/3") < 1e-14


def test_reward_bad_inputs():
    assert continuous_reward("not a number", 3) == 0.0
    assert continuous_reward(float("nan"), 3) == 0.0
    assert continuous_reward("__import__('os')", 3) == 0.0
    assert continuous_reward("1e999999", 3) == 0.0
    with pytest.raises(ValueError):
        continuous_reward(3, "garbage")


def test_ngram_overlap_hand_case():
    from data_gen.overlap import char_ngrams, ngram_overlap
    assert char_ngrams("abcd", 3) == {"abc", "bcd"}
    # eval 'abcx' shares 'abc' (1 of its 2 trigrams); 'zzzz' shares nothing
    result = ngram_overlap(["abcd"], ["abcx", "zzzz"], n=3)
    assert result["fraction_with_shared_ngram"] == 0.5 and result["max_overlap"] == 0.5


def test_exhausted_family_raises_instead_of_hanging():
    tiny = RandomCalculationConfig(family="easy", max_int=1, operators="+")  # only 0+0, 0+1, 1+0, 1+1
    assert len(generate_dataset(0, [1], 4, tiny)) == 4
    with pytest.raises(RuntimeError, match="too few distinct"):
        generate_dataset(0, [1], 5, tiny)
    with pytest.raises(ValueError, match="fraction 0"):
        next(stream_problems(0, [1], RandomCalculationConfig(split_fractions=(1, 0, 0)), split="test"))
