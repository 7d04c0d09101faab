"""Builds tests/data/verifier_cases.jsonl. Labels come from how each case is constructed, not from the verifier."""
import json
import random
import re
from fractions import Fraction
from pathlib import Path

EVAL = Path("/work/shared/data/eval")
OUT = Path(__file__).with_name("verifier_cases.jsonl")


def load(name):
    return [json.loads(line) for line in (EVAL / f"{name}.jsonl").read_text().splitlines() if line.strip()]


def case(type_, gold, response, expected, note=""):
    return {"type": type_, "gold": gold, "response": response, "expected": expected, "note": note}


def main():
    rng = random.Random(0)
    cases = []
    gsm = load("gsm8k_test")[:40]
    for d in gsm:
        g = d["answer"]
        n = int(g) if re.fullmatch(r"-?\d+", g) else None
        cases.append(case("gsm8k", g, f"She earns this much.\n#### {g}", True, "gsm8k marker"))
        cases.append(case("gsm8k", g, f"So the total is {g} dollars.", True, "last number"))
        if n is not None:
            cases.append(case("gsm8k", g, f"#### {n + 1}", False, "off by one"))
            if n != 0:
                cases.append(case("gsm8k", g, f"The answer is \\boxed{{{-n}}}", False, "sign error"))
            if abs(n) >= 1000:
                cases.append(case("gsm8k", g, f"\\boxed{{{n:,}}}", True, "thousands separator"))
    for name in ("aime24", "amc23"):
        for d in load(name)[:20]:
            g = d["answer"]
            cases.append(case(name, g, f"Thus the final answer is $\\boxed{{{g}}}$.", True))
            if re.fullmatch(r"\d+", g):
                cases.append(case(name, g, f"\\boxed{{{int(g) + 10}}}", False, "wrong integer"))
    math500 = load("math500")
    int_golds = [d["answer"] for d in math500 if re.fullmatch(r"\d+", d["answer"])]
    for d in math500[:120]:
        g = d["answer"]
        cases.append(case("math500", g, f"Therefore the answer is $\\boxed{{{g}}}$.", True, "verbatim"))
        if re.fullmatch(r"\d+", g):
            other = rng.choice([x for x in int_golds if x != g])
            cases.append(case("math500", g, f"\\boxed{{{other}}}", False, "another problem's answer"))
            cases.append(case("math500", g, f"\\boxed{{x = {g}}}", True, "equation form"))
        if re.search(r"\\sqrt\{\d+\}", g) and "," not in g:
            cases.append(case("math500", g, "\\boxed{" + re.sub(r"\\sqrt\{(\d+)\}", r"(\1)^{1/2}", g) + "}", True,
                              "sqrt as power"))
        if "\\pi" in g and "," not in g and "=" not in g:
            cases.append(case("math500", g, "\\boxed{" + g.replace("\\pi", "(3.14159)") + "}", False, "rounded pi"))
        if g.count(",") == 1 and g.startswith("\\left(") or re.fullmatch(r"\(.*,.*\)", g):
            cases.append(case("math500", g, "\\boxed{" + g.replace("\\left", "").replace("\\right", "") + "}", True,
                              "no \\left/\\right"))
        m = re.fullmatch(r"\\[dt]?frac\{(\d+)\}\{(\d+)\}", g)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            cases.append(case("math500", g, f"\\boxed{{{a}/{b}}}", True, "slash fraction"))
            cases.append(case("math500", g, f"\\boxed{{\\frac{{{2 * a}}}{{{2 * b}}}}}", True, "unreduced"))
            cases.append(case("math500", g, f"\\boxed{{\\frac{{{a}}}{{{b + 1}}}}}", False, "near-miss fraction"))
            cases.append(case("math500", g, f"\\boxed{{-\\frac{{{a}}}{{{b}}}}}", False, "sign error"))
    for _ in range(30):  # RandomCalculation style: exact rationals
        f = Fraction(rng.randint(-500, 500), rng.randint(2, 97))
        if f.denominator == 1:
            continue
        g = f"\\frac{{{f.numerator}}}{{{f.denominator}}}" if f > 0 else f"-\\frac{{{-f.numerator}}}{{{f.denominator}}}"
        cases.append(case("random_calculation", g, f"\\boxed{{{f.numerator}/{f.denominator}}}", True))
        dec = f"{float(f):.4f}"
        exact = Fraction(dec) == f  # a terminating decimal written exactly is right; a rounded one is wrong
        cases.append(case("random_calculation", g, f"\\boxed{{{dec}}}", exact, "4-digit decimal"))
        cases.append(case("random_calculation", g, f"\\boxed{{{f.numerator + 1}/{f.denominator}}}", False, "near miss"))
    hand = [
        ("number", "0.1", "\\boxed{0.10000001}", False, "tolerance hard negative"),
        ("number", "0.1", "\\boxed{\\frac{1}{10}}", True, "decimal vs fraction"),
        ("number", "\\frac12", "\\boxed{0.5}", True, "bare-digit frac"),
        ("number", "2.50", "\\boxed{2.5}", True, "trailing zero"),
        ("number", "50", "\\boxed{50\\%}", True, "percent stripped"),
        ("number", "30", "\\boxed{30^\\circ}", True, "degrees"),
        ("number", "30^\\circ", "\\boxed{30}", True, "degrees in gold"),
        ("number", "5", "\\boxed{5 \\text{ cm}}", True, "units"),
        ("number", "5", "\\boxed{6 \\text{ cm}}", False, "wrong number with units"),
        ("number", "-3", "\\boxed{3}", False, "sign error"),
        ("radical", "\\frac{\\sqrt{2}}{2}", "\\boxed{\\frac{1}{\\sqrt{2}}}", True, "rationalized"),
        ("radical", "2\\sqrt{3}", "\\boxed{\\sqrt{12}}", True, "simplified radical"),
        ("radical", "2\\sqrt{3}", "\\boxed{3\\sqrt{2}}", False, "swapped radical"),
        ("radical", "\\sqrt[3]{8}", "\\boxed{2}", True, "cube root"),
        ("constant", "2\\pi", "\\boxed{\\pi \\cdot 2}", True, "commuted"),
        ("constant", "2\\pi", "\\boxed{6.28}", False, "rounded pi"),
        ("expression", "x^2+2x+1", "\\boxed{(x+1)^2}", True, "expanded"),
        ("expression", "x^2+2x+1", "\\boxed{(x-1)^2}", False, "sign inside"),
        ("expression", "\\frac{x+1}{2}", "\\boxed{\\frac{x}{2}+\\frac{1}{2}}", True),
        ("expression", "y = 2x+3", "\\boxed{2x+3}", True, "equation vs rhs"),
        ("expression", "\\sin^2 x + \\cos^2 x", "\\boxed{1}", True, "identity"),
        ("set", "1, 2, 3", "\\boxed{3, 1, 2}", True, "order-insensitive"),
        ("set", "1, 2, 3", "\\boxed{1, 2}", False, "subset of find-all"),
        ("set", "1, 2, 3", "\\boxed{1, 2, 3, 4}", False, "superset"),
        ("set", "\\{1, 2\\}", "\\boxed{\\{2, 1\\}}", True, "braces set"),
        ("set", "2 \\pm \\sqrt{3}", "\\boxed{2+\\sqrt{3}, 2-\\sqrt{3}}", True, "pm expanded"),
        ("set", "2+\\sqrt{3}, 2-\\sqrt{3}", "\\boxed{2 \\pm \\sqrt{3}}", True, "pm in response"),
        ("set", "2 \\pm \\sqrt{3}", "\\boxed{2+\\sqrt{3}}", False, "one root only"),
        ("tuple", "(1, 2)", "\\boxed{(2, 1)}", False, "ordered tuple"),
        ("tuple", "(1, 2)", "\\boxed{\\left(1,2\\right)}", True),
        ("interval", "[0, 1)", "\\boxed{[0,1)}", True),
        ("interval", "[0, 1)", "\\boxed{[0,1]}", False, "closed vs open"),
        ("interval", "(-\\infty, 3]", "\\boxed{(-\\infty,3]}", True),
        ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
         "\\boxed{\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}}", True),
        ("matrix", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
         "\\boxed{\\begin{pmatrix} 1 & 3 \\\\ 2 & 4 \\end{pmatrix}}", False, "transposed"),
        ("matrix", "\\begin{pmatrix} 1/2 \\\\ 3 \\end{pmatrix}", "\\boxed{\\begin{pmatrix} 0.5 \\\\ 3 \\end{pmatrix}}", True),
        ("extraction", "7", "\\boxed{\\boxed{7}}", True, "nested boxed"),
        ("extraction", "7", "first \\boxed{3} then \\boxed{7}", True, "last box wins"),
        ("extraction", "7", "\\fbox{7}", True, "fbox"),
        ("extraction", "7", "Answer: 7", True, "answer colon"),
        ("extraction", "7", "no numbers here", False, "no answer"),
        ("interval", "(0,9) \\cup (9,36)", "\\boxed{(9,36) \\cup (0,9)}", True, "union order"),
        ("interval", "(0,9) \\cup (9,36)", "\\boxed{(0,9)}", False, "part of a union"),
        ("interval", "[-2,7]", "\\boxed{x \\in [-2,7]}", True, "x in"),
        ("base", "4210_{5}", "\\boxed{4210_5}", True, "subscript braces"),
        ("base", "4210_{5}", "\\boxed{4211_5}", False, "wrong digit"),
        ("money", "\\$18.90", "\\boxed{18.9}", True, "dollar sign"),
        ("money", "\\$32,\\!348", "\\boxed{32348}", True, "thousands with \\!"),
        ("number", "\\infty", "\\boxed{-\\infty}", False, "sign of infinity"),
    ]
    cases += [case(*h) for h in hand]
    with OUT.open("w") as f:
        for c in cases:
            f.write(json.dumps(c) + "\n")
    print(len(cases), "cases ->", OUT)


if __name__ == "__main__":
    main()
