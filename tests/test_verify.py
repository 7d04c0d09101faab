"""Verifier: labeled table, adversarial inputs (no code runs, bounded time), pool timeouts and threads."""
import json
import threading
import time
from pathlib import Path

import pytest

from rlvr_verify import verify, verify_batch
from rlvr_verify.extract import extract_answer
from rlvr_verify.pool import VerifierPool

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "verifier_cases.jsonl").read_text().splitlines()]


def test_table_is_large_and_mixed():
    assert len(CASES) >= 300
    assert {"gsm8k", "math500", "aime24", "amc23", "random_calculation", "set", "interval", "matrix"} <= {
        c["type"] for c in CASES}
    assert sum(not c["expected"] for c in CASES) >= 100  # hard negatives are a real share


def test_labeled_table_all_correct():
    wrong = [(c["type"], c["gold"], c["response"], c["expected"], verify(c["response"], c["gold"]))
             for c in CASES if verify(c["response"], c["gold"]).correct != c["expected"]]
    assert wrong == []


@pytest.mark.parametrize("response,rule,text", [
    ("so \\boxed{\\frac{1}{2}} done", "boxed", "\\frac{1}{2}"),
    ("x\n#### 1,234", "gsm8k", "1,234"),
    ("The final answer is $42$.", "final_answer", "42"),
    ("Answer: 3/4", "answer_colon", "3/4"),
    ("we get 5 and then 7 apples", "last_number", "7"),
])
def test_extraction_rules(response, rule, text):
    got = extract_answer(response)
    assert (got.rule, got.text) == (rule, text)


def test_strict_boxed_ignores_other_rules():
    assert verify("#### 5", "5", extract="boxed").reason == "no_answer"
    assert verify("#### 5", "5").correct


def test_tolerance_is_configurable():
    assert not verify("\\boxed{0.10000001}", "0.1").correct
    assert verify("\\boxed{0.10000001}", "0.1", rel_tol=1e-6).correct


def test_infinities_keep_their_sign():
    assert not verify("\\boxed{-\\infty}", "\\infty").correct
    assert verify("\\boxed{\\infty}", "\\infty").correct
    assert not verify("\\boxed{(-\\infty, 3]}", "(\\infty, 3]").correct


def test_unit_words_stripped_but_variables_kept():
    assert verify("\\boxed{18 dollars}", "18").correct
    assert not verify("\\boxed{2 x}", "2").correct
    assert not verify("\\boxed{3 pi}", "3").correct


def test_percent_modes():
    """strip (default): '50%' reads as 50 or, failing that, as 0.5 (math-verify does the same); fraction: only 0.5."""
    assert verify("\\boxed{50\\%}", "50").correct
    assert verify("\\boxed{50\\%}", "0.5", percent="fraction").correct
    assert not verify("\\boxed{50\\%}", "50", percent="fraction").correct
    assert verify("\\boxed{50\\%}", "0.5").correct
    assert not verify("\\boxed{50\\%}", "0.4").correct


def test_batch_matches_single():
    rs, gs = [c["response"] for c in CASES[:50]], [c["gold"] for c in CASES[:50]]
    assert verify_batch(rs, gs) == [verify(r, g) for r, g in zip(rs, gs)]


def _payloads(path):
    p = str(path)
    return [
        f"__import__('os').system('touch {p}')",
        f"\\boxed{{__import__('os').system('touch {p}')}}",
        f"\\boxed{{open('{p}','w')}}",
        f"\\boxed{{exec(\"open('{p}','w')\")}}",
        f"\\boxed{{eval(\"open('{p}','w')\")}}",
        f"Answer: __import__('os').system('touch {p}')",
        f"The final answer is lambda: open('{p}','w')",
        f"#### (lambda: __import__('os').system('touch {p}'))()",
        f"\\boxed{{\\text{{{{__import__('os').system('touch {p}')}}}}}}",
        f"\\boxed{{Symbol('x').__class__.__init__.__globals__}}",
    ]


ADVERSARIAL = [
    "\\boxed{10^{10^{10^{10}}}}", "\\boxed{9**9**9**9}", "\\boxed{(10^{1000000})!}", "\\boxed{100000!}",
    "\\boxed{2^{2^{2^{2^{2^{2}}}}}}", "\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}",
    "\\boxed{" + "{" * 300 + "1" + "}" * 300 + "}", "x" * 1_000_000 + " \\boxed{1}", "1" * 1_000_000,
    b"\xff\xfe\\boxed{1}".decode("utf-8", errors="surrogateescape"), "", "\\boxed{}", "\\boxed{",
    "\\boxed{\\frac{1}{0}}", "\\boxed{0^{-1}}", "\\boxed{\\sqrt[0]{2}}", "\\boxed{1e999999}",
]


def test_adversarial_inputs_return_fast_and_never_run_code(tmp_path):
    target = tmp_path / "pwned"
    for response in _payloads(target) + ADVERSARIAL:
        for gold in ("1", "x", "\\frac{1}{2}"):
            start = time.perf_counter()
            v = verify(response, gold)
            assert time.perf_counter() - start < 1.0, response[:60]
            assert v.reason in {"equal", "not_equal", "no_answer", "parse_error", "too_large"}, (response[:60], v)
    assert not target.exists()


def test_huge_numbers_are_refused_not_computed():
    assert verify("\\boxed{10^{10^{10^{10}}}}", "1").reason == "too_large"
    assert verify("\\boxed{9**9**9**9}", "1").reason == "too_large"
    assert verify("\\boxed{100000!}", "1").reason == "too_large"
    assert verify("\\boxed{2^{10}}", "1024").correct  # moderate powers still work


def test_pool_kills_hanging_item_and_keeps_serving(tmp_path):
    target = tmp_path / "pwned_pool"
    with VerifierPool(num_workers=2, timeout_s=1.0, memory_mb=1024) as pool:
        pool.verify_batch(["\\boxed{1}"] * 2, ["1"] * 2, _test_sleep=0.3)  # both workers started (imports) first
        start = time.perf_counter()
        hung = pool.verify_batch(["\\boxed{1}"], ["1"], _test_sleep=30)
        assert time.perf_counter() - start < 2.0
        assert hung[0].reason == "timeout" and not hung[0].correct
        assert pool.counters["timeouts"] == 1 and pool.counters["restarts"] == 1
        rs = _payloads(target) + ADVERSARIAL[:8] + ["\\boxed{\\frac{2}{4}}"]
        out = pool.verify_batch(rs, ["\\frac12"] * len(rs))
        assert out[-1].correct and not any(v.correct for v in out[:-1])
        assert all(v.reason != "timeout" for v in out)

        results = {}

        def worker(k):
            results[k] = pool.verify_batch([f"\\boxed{{{k}}}", "\\boxed{7}"], [str(k), "8"])

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert all(results[k][0].correct and not results[k][1].correct for k in range(4))
    assert not target.exists()


# ------------------------------------------------------------------ classes found by other people's cases
@pytest.mark.parametrize("response,gold,expected", [
    # case-folded text answers
    ("\\boxed{yes}", "Yes", True), ("\\boxed{True}", "true", True), ("Yes", "yes", True), ("odd", "\\text{odd}", True),
    ("\\boxed{odd}", "oddd", False), ("\\boxed{No}", "yes", False), ("\\boxed{ab}", "ba", True),
    # the gold's own final answer (worked solution, sentence, lettered option)
    ("\\boxed{1}", "The final answer is (B) 1", True), ("\\boxed{B}", "The final answer is (B) 1", True),
    ("\\boxed{C}", "The final answer is (B) 1", False), ("\\boxed{2}", "The final answer is (B) 1", False),
    ("\\boxed{12}", "We add them.\nSo there are $5+7=\\boxed{12}$ apples.", True),
    ("\\boxed{13}", "We add them.\nSo there are $5+7=\\boxed{12}$ apples.", False),
    ("C", "C. x = 42", True), ("C. x = 42", "C", True),
    # relations
    ("\\boxed{x \\neq 3}", "x != 3", True), ("\\boxed{x \\neq 3}", "x != 4", False), ("\\boxed{2!=2}", "2", True),
    ("\\boxed{-x > -1}", "x < 1", True), ("\\boxed{-x > -1}", "x > 1", False), ("\\boxed{-2x \\ge 4}", "(-\\infty,-2]", True),
    ("\\boxed{2 < 2x+4 \\le 6}", "(-1,1]", True), ("\\boxed{x = 5+5+1 = 1/3}", "1/3", True),
    ("\\frac{\\sqrt{3}}{3}", "\\frac{\\sqrt{3}}{3} \\approx 0.577", True), ("\\boxed{0.5}", "\\frac{\\sqrt{3}}{3} \\approx 0.577", False),
    # equations of lines and curves up to a non-zero factor or rearrangement
    ("\\boxed{2x+4y-3=0}", "y=-x/2+3/4", True), ("\\boxed{2x+4y-3=0}", "y=-x/2+3/5", False),
    ("\\boxed{x-y=1}", "y=x-1", True), ("\\boxed{x-y=1}", "y=x+1", False), ("\\boxed{x^2+y^2=4}", "2x^2+2y^2-8=0", True),
    ("\\boxed{y = 2x + 3}", "2x+3", True),
    # labelled values vs bare values
    ("\\boxed{AB=4, CD=5}", "4, 5", True), ("\\boxed{AB=4, CD=6}", "4, 5", False), ("\\boxed{x=-5, p=14/3}", "-5, 14/3", True),
    ("\\boxed{S_1:S_2=7:32}", "7:32", True), ("x = 1, y = 2, z = 3", "1, 2, 3", True), ("\\boxed{x=1, y=2}", "(1,2)", True),
    ("\\boxed{x=2, y=1}", "(1,2)", False),
    # several answers
    ("So $x = \\boxed{1}$ and $y = \\boxed{2}$.", "(1, 2)", True), ("\\boxed{1 \\text{ and } 2}", "1, 2", True),
    ("\\boxed{1 \\text{ or } 2}", "2, 1", True), ("\\boxed{1; 2}", "1, 2", True), ("\\boxed{1 \\text{ and } 3}", "1, 2", False),
    ("7, -2, \\text{ and } -5", "-5,-2,7", True), ("\\boxed{(1,2),(3,4)}", "(3,4),(1,2)", True),
    # inequalities vs unions of intervals
    ("\\boxed{x<-2 \\text{ or } x>3}", "(-\\infty,-2)\\cup(3,\\infty)", True),
    ("\\boxed{x<-2 \\text{ or } x>3}", "(-\\infty,-2]\\cup(3,\\infty)", False),
    ("\\boxed{0<f(x)<1}", "(0,1)", True), ("\\boxed{x>1 \\text{ and } x<3}", "(1,3)", True),
    ("\\boxed{1 \\le |z| \\le 3/2}", "[-\\frac32,-1]\\cup[1,\\frac32]", True),
    ("\\boxed{1 \\le |z| \\le 3/2}", "1 \\leq |z| \\leq 1.5", True), ("\\boxed{1 \\le |z| \\le 3/2}", "[1, \\frac{3}{2}]", False),
    ("\\boxed{|x| > 1}", "(-\\infty,-1)\\cup(1,\\infty)", True), ("\\boxed{|x| > 1}", "(1,\\infty)", False),
    ("\\boxed{|x-2| < 3}", "(-1,5)", True), ("\\boxed{|x-2| \\le 3}", "(-1,5)", False),
    ("\\boxed{|2x+1| \\ge 3}", "(-\\infty,-2]\\cup[1,\\infty)", True),
    # array vs pmatrix; radicals vs fractional powers
    ("\\boxed{\\begin{array}{cc}1&2\\\\3&4\\end{array}}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", True),
    ("\\boxed{\\begin{array}{cc}1&2\\\\3&5\\end{array}}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", False),
    ("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}", True),
    ("\\boxed{\\sqrt[3]{x}^2}", "x^{2/3}", True), ("\\boxed{x^{2/3}}", "\\sqrt[3]{x^2}", True), ("\\boxed{|x|}", "x", False),
    # number formats
    ("\\boxed{11,\\!111}", "11111", True), ("11,\\! 111,\\! 111,\\! 100", "11111111100", True),
    ("The total is $10,455$.", "10455", True), ("\\boxed{\\cfrac{1}{2}}", "1/2", True), ("\\boxed{5 \\textnormal{ cm}}", "5", True),
    ("10\\text{ cm}^2", "10", True), ("1\\frac12", "1.5", True), ("\\tfrac{1}{2} +\\! \\frac1{72}", "\\\\dfrac{1}{2} +\\frac{1}{72}", True),
    ("185", "185\\", True),
    # a final answer stated only in prose
    ("Final Answer: The final answer is 120. I hope it is correct.", "120", True),
    ("Final Answer: The final answer is $120$. I hope it is correct.", "121", False),
    # policy: a mixed number with a percent sign is not the bare fraction of its digits (4 1/2 % is not 9/2); it is
    # its percent value (0.045) and, with the percent stripped, the mixed number (4.5)
    ("\\boxed{\\frac{9}{2}}", "4\\frac{1}{2}\\%", False), ("\\boxed{4\\frac{1}{2}\\%}", "\\frac{9}{2}", False),
    ("\\boxed{9/2}", "4 1/2%", False), ("\\boxed{0.045}", "4\\frac{1}{2}\\%", True), ("\\boxed{4\\frac{1}{2}\\%}", "4.5", True),
    ("\\boxed{33\\frac{1}{3}\\%}", "\\frac{1}{3}", True), ("\\boxed{33\\frac{1}{3}\\%}", "33\\frac{1}{3}", True),
    ("\\boxed{0.5}", "50\\%", True),
    # the imaginary unit; 'x = a or x = b' as a list
    ("\\boxed{1+2i}", "i(2-i)", True), ("\\boxed{1-2i}", "i(2-i)", False), ("\\boxed{x = 3 \\text{ or } x = -2}", "-2, 3", True),
])
def test_issue21_classes(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a family indexed by a parameter: the family compares as an expression, the parameter's domain must match
    ("\\boxed{\\{x | x = 3k, k \\in \\mathbb{Z}\\}}", "$\\{x|x=3k,k\\in \\mathbb{Z}\\}$", True),
    ("\\boxed{\\{x \\mid x = 3k+1, k \\in \\mathbb{Z}\\}}", "$\\{x|x=3k,k\\in \\mathbb{Z}\\}$", False),
    ("\\boxed{\\{x \\mid x = 2k, k \\in \\mathbb{Z}\\}}", "$\\{x|x=3k,k\\in \\mathbb{Z}\\}$", False),
    ("\\boxed{x = 2k\\pi + \\frac{\\pi}{2}, k \\in \\mathbb{Z}}", "\\frac{\\pi}{2}+2k\\pi, k\\in Z", True),
    ("\\boxed{x = 2n\\pi + \\frac{\\pi}{2}, n \\in \\mathbb{Z}}", "x=\\frac{\\pi}{2}+2k\\pi,k\\in\\mathbb{Z}", True),
    ("\\boxed{x = 2k\\pi + \\frac{\\pi}{2}, k \\in \\mathbb{Z}}", "x=\\frac{\\pi}{2}+k\\pi, k\\in \\mathbb{Z}", False),
    ("\\boxed{x = 2k\\pi + \\frac{\\pi}{2}, k \\in \\mathbb{N}}", "x=\\frac{\\pi}{2}+2k\\pi, k\\in \\mathbb{Z}", False),
    ("\\boxed{x = 2k\\pi + \\frac{\\pi}{2}}", "x=\\frac{\\pi}{2}+2k\\pi, k\\in \\mathbb{Z}", False),
    ("\\boxed{3k, \\text{where } k \\in \\mathbb{Z}}", "3k,k\\in\\mathbb{Z}", True),
    ("\\boxed{3n, k \\in \\mathbb{Z}}", "3k,k\\in\\mathbb{Z}", False),
    ("\\boxed{[k\\pi - \\frac{\\pi}{3}, k\\pi + \\frac{\\pi}{6}], k \\in \\mathbb{Z}}",
     "[k\\pi-\\frac{\\pi}{3},k\\pi+\\frac{\\pi}{6}](k\\in\\mathbb{Z})", True),
    ("\\boxed{(k\\pi - \\frac{\\pi}{3}, k\\pi + \\frac{\\pi}{6}), k \\in \\mathbb{Z}}",
     "[k\\pi-\\frac{\\pi}{3},k\\pi+\\frac{\\pi}{6}](k\\in\\mathbb{Z})", False),
    ("\\boxed{[k\\pi - \\frac{\\pi}{3}, k\\pi + \\frac{\\pi}{3}], k \\in \\mathbb{Z}}",
     "[k\\pi-\\frac{\\pi}{3},k\\pi+\\frac{\\pi}{6}](k\\in\\mathbb{Z})", False),
])
def test_answers_indexed_by_a_parameter(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a trace that opened its thinking and never closed it was cut off: its last number is where it stopped
    ("<|begin_of_thought|>\n\nFor k=1 it is 1/2. For k=2 it is 1/4.\n\nSimilarly, for k=3,", "3", False),
    ("<think>\nLet me try x = 2, then x = 3", "3", False),
    ("<think>\nLet me try $x = 2$, then $x = 3$", "3", False),
    ("<think>\nThere are three ways", "3", False),
    # ... nor a box or an 'answer is' inside it: a candidate it was still weighing; an <answer> tag counts, and a
    # closed trace reads as before
    ("<think>\nSo far the candidate is \\boxed{3}; let me check k=4", "3", False),
    ("<think>\nChecking again, the answer is 3. But wait, for k=4", "3", False),
    ("<think>\nk = 3 works.\n<answer>3</answer>", "3", True),
    ("<think>\nLet me try x = 2, then x = 3</think>\nSo x = 3.", "3", True),
    ("<|begin_of_thought|>\nk=3 works<|end_of_thought|>\n<|begin_of_solution|>\nIt is $3$.", "3", True),
    # without any thinking tag nothing says the text was cut off: the last number is read as before
    ("For k=1 it is 1/2. Similarly, for k=3,", "3", True),
])
def test_a_trace_cut_off_while_thinking_has_no_last_number_answer(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # options lettered F, G, H, J, K (ACT's even-numbered items, GaoKao 2023 English) read like A-E
    ("so the correct answer is: \\boxed{(H) $\\frac{2(a^{2}-ab+b^{2})}{a^{2}-b^{2}}$}", "H", True),
    ("\\boxed{(G) $\\frac{2(a^{2}-ab+b^{2})}{a^{2}-b^{2}}$}", "H", False),
    ("\\boxed{(K) $\\cos (360-A)^{\\circ}$}", "K", True), ("\\boxed{(K) $\\cos (360-A)^{\\circ}$}", "F", False),
    ("\\boxed{F}", "(F)", True), ("\\boxed{G}", "(F)", False), ("\\boxed{(F) 5}", "5", True), ("\\boxed{(F) 6}", "5", False),
    # I is a Roman numeral or a quadrant, not an option letter
    ("\\boxed{(I) 5}", "I", False), ("\\boxed{\\text{I, III, IV}}", "I,II,III,IV", False),
])
def test_options_lettered_past_e(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a sentence's value after its last 'is' of the prose, not after an '=' inside its math
    ("**Answer:** The smallest value of \\(n\\) such that \\(A_n \\geq K\\) is \\(n = 10\\).", "10", True),
    ("**Answer:** The smallest value of \\(n\\) such that \\(A_n \\geq K\\) is \\(n = 11\\).", "10", False),
    ("Answer: The value is $x = 5$.", "5", True), ("Answer: The value is $x = 6$.", "5", False),
    # named values in one bracket are the named values: order free, each name's value checked
    ("\\boxed{\\left( f(n) = n, g(n) = 1 \\right)}", "$f(n)=n$, $g(n)=1$", True),
    ("\\boxed{\\left( f(n) = n, g(n) = 2 \\right)}", "$f(n)=n$, $g(n)=1$", False),
    ("\\boxed{(y = 2, x = 1)}", "x=1, y=2", True), ("\\boxed{(x = 2, y = 1)}", "x=1, y=2", False),
    ("\\boxed{(x = 1), (y = 3)}", "x=1, y=2", False),
    # a backslash before a digit is no command ('\\$15' with its '$' lost); a matrix row break stays one
    ("The final answer is: \\boxed{\\15}", "15", True), ("\\boxed{\\16}", "15", False),
    ("\\boxed{\\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", False),
    ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", True),
])
def test_human_labelled_solution_forms(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a closing value the text rejects ('... is not a solution', 'does not work') is not its answer
    ("If we let \\( x = 14 \\), then \\( y = 15 \\). So, \\( x = 14 \\) and \\( y = 15 \\) is not a solution.", "15", False),
    ("We tried 14 and 15. Then $15$ does not work.", "15", False), ("Trying 15: 15 isn't a root.", "15", False),
    # ... while a value that is stated, or rejected before another is stated, still counts
    ("So, \\( x = 14 \\) and \\( y = 15 \\) is the solution.", "15", True),
    ("We tried 14 and 15, and 15 works.", "15", True), ("Checking: 16 is not a solution. So x = 15", "15", True),
    ("So the answer is 15, which is not prime.", "15", True),
])
def test_a_rejected_closing_value_is_not_the_answer(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a bracketed list that cannot be an interval is the gold's bare list written in brackets, read in order
    ("\\boxed{(1000, 10)}", "$10^{3},10$", True), ("\\boxed{(1, 2, 3)}", "1, 2, 3", True),
    ("\\boxed{[3, 1]}", "3, 1", True), ("\\boxed{(5, -5)}", "5, -5", True),
    # ... while a pair that may be an interval stays apart, and order counts once it is bracketed
    ("\\boxed{(1, 2)}", "1, 2", False), ("\\boxed{(10, 1000)}", "10^3, 10", False),
    ("\\boxed{(3, 1, 2)}", "1, 2, 3", False), ("\\boxed{(a, b)}", "a, b", False),
    ("\\boxed{(-\\infty, 2)}", "-\\infty, 2", False), ("\\boxed{(1000, 11)}", "10^3, 10", False),
])
def test_a_bracketed_list_that_cannot_be_an_interval(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a gold decimal is a value, not a rounding of whatever rounds to it: an exact answer does not match it (two
    # graders' suites, mneme and vi-math-smt, assert 1/3 is not 0.333; MARIO's tolerance, 40\pi = 125.663, is policy)
    ("\\boxed{40\\pi}", "125.663", False), ("\\boxed{\\sqrt{3}}", "1.732", False), ("\\frac{1}{3}", "0.333", False),
    ("1/3", "0.333", False), ("\\boxed{\\frac{2}{3}}", "0.667", False), ("\\boxed{126}", "125.663", False),
    # while the same value in another form still matches, and so does a decimal that equals it
    ("\\boxed{\\frac{1}{8}}", "0.125", True), ("\\boxed{125.663}", "125.663", True), ("\\boxed{0.6670}", "0.667", True),
    ("\\boxed{2.1569}", "\\frac{110}{51}", False),
])
def test_an_exact_answer_is_not_a_rounded_gold(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a final-answer statement after the last box is the answer (the box was a candidate)
    ("The answer is not \\boxed{4}. Final answer: 5", "4", False), ("Candidate: \\boxed{4}. Final answer: 5", "4", False),
    ("\\boxed{4}. Actually the final answer is 5.", "4", False), ("Candidate: \\boxed{4}. Final answer: 5", "5", True),
    # ... while one that restates the box, or points at it, or names no value, leaves the box the answer
    ("\\boxed{5}\n\nFinal Answer: The final answer is $5$. I hope it is correct.", "5", True),
    ("\\boxed{12}. The final answer is boxed above.", "12", True), ("The final answer is $\\boxed{7}$.", "7", True),
    ("We box it: \\boxed{2}. Final answer: yes", "2", True),
    # \\box for \\boxed; Unicode superscripts; a known two-letter unit glued to the number
    ("\\box{39}", "39", True), ("\\box{38}", "39", False), ("Answer: 162x⁴", "162x^4", True),
    ("Answer: 162x⁴", "162x^3", False), ("10⁻³", "0.001", True), ("12cm", "12", True), ("\\boxed{5cm^2}", "5", True),
    ("12cm", "13", False), ("12ab", "12", False),
])
def test_final_answer_after_a_box_superscripts_box_alias_glued_units(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a closing 'there are N ...' in digits states the count (ProcessBench's Omni-MATH solutions end so)
    ("Thus, there are **19** integers from 1 to 100, inclusive, that have at least one digit equal to 6.", "19", True),
    ("There are 1164 times \\(h:m:s\\) on a 24-hour digital clock where h + m = s.", "1164", True),
    ("Therefore, there are **1680 distinct** $2 \\times 2 \\times 2$ cubes from 8 colored cubes.", "1680", True),
    ("Final Calculation: \\[ 10 + 10 - 1 = 19 \\] Thus, there are **19** integers from 1 to 100, inclusive.", "19", True),
    ("Thus, there are **19** integers from 1 to 100.", "100", False), ("There are 3.5 liters left.", "3", False),
    ("There are 2^{10} subsets.", "2", False), ("So there are 12 ways, and the answer is 15.", "12", False),
    # ... but not a count that was a step: a subordinate clause, an operator after it, a computation later in the line
    ("Since there are 24 hours in a day, we perform 24*2=48 hours for them to paint the house.", "48", True),
    ("There are 32-4-8 = 20 red blocks in the tower.", "20", True),
    ("There are 5 schools that can bring a total of 5*56 = 280 students", "280", True),
    # a lone variable is not equal to a value past a float's range; equal text up to spacing is equal however large
    ("the number of \\(f\\) is not trivial", "\\binom{4025}{2013}", False),
    ("\\boxed{4^{2017} - 2 \\cdot 3^{2017} + 2^{2017}}", "4^{2017}-2 \\cdot 3^{2017}+2^{2017}", True),
    ("\\boxed{4^{2017} - 2 \\cdot 3^{2017} + 2^{2016}}", "4^{2017}-2 \\cdot 3^{2017}+2^{2017}", False),
    ("\\boxed{2 3}", "23", False),
])
def test_closing_counts_huge_values_and_spacing(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # math typed as Unicode: roots, pi, infinity, operators, vulgar fractions (a mixed number after a whole number)
    ("\\boxed{√3}", "\\sqrt{3}", True), ("\\boxed{2√3}", "2\\sqrt{3}", True), ("\\boxed{√(x+1)}", "\\sqrt{x+1}", True),
    ("\\boxed{3π}", "3\\pi", True), ("\\boxed{π/2}", "\\frac{\\pi}{2}", True), ("\\boxed{-∞}", "-\\infty", True),
    ("\\boxed{2×3}", "6", True), ("\\boxed{6÷2}", "3", True), ("\\boxed{2·3}", "6", True),
    ("\\boxed{½}", "1/2", True), ("\\boxed{1½}", "3/2", True),
    # ... in prose, the last number keeps its root and coefficient
    ("So the area is √3 ≈ 1.732. We will leave it as √3.", "\\sqrt{3}", True),
    ("we will leave it as 2√3.", "2\\sqrt{3}", True), ("we will leave it as 2√3.", "\\sqrt{3}", False),
    ("\\boxed{√2}", "\\sqrt{3}", False), ("\\boxed{3π}", "3", False), ("\\boxed{1½}", "1/2", False),
])
def test_unicode_math(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


def test_parameter_family_pattern_stays_linear():
    """The family qualifier is matched on normalized answers (at most a few thousand characters); its pattern is also
    linear on long runs of blanks, commas and brackets."""
    import time
    from rlvr_verify.verify import _PARAMETER
    for text in ["a" + " " * 100_000 + "b", "a, " * 30_000 + "b", " ( " * 30_000, "a \\text{where}" * 10_000]:
        start = time.perf_counter()
        assert _PARAMETER.match(text) is None
        assert time.perf_counter() - start < 1.0


def test_devset_floor():
    """The development set (other people's labelled cases and labelled real completions) stays at or above the
    accuracy measured after the last round of fixes, with a margin (95.5% on 9,485 cases, 98.5% on the 8,711 that are
    not one grader's policy; 99.2% on the 5,211 real completions counted here, 2,382 of them labelled wrong, of
    which ours passes two that are not a policy: 'Answer: (E) 12' for the gold E, labelled wrong by its source, and
    an unfinished derivation whose malformed display math leaves a stray 1 as its last number); the misses are other
    graders' policies (tolerances, ordered lists, string matching, a required box or marker) and real completions
    whose closing lines do not restate their answer."""
    from rlvr_verify.dev.devset import is_policy, load_devset
    cases = load_devset()
    assert len(cases) >= 9400 and len({c["source"] for c in cases}) >= 8
    hits = [verify(c["response"], c["gold"]).correct == c["expected"] for c in cases]
    assert sum(hits) / len(cases) >= 0.95
    mathematics = [hit for hit, c in zip(hits, cases) if not is_policy(c)]
    assert len(mathematics) >= 8700 and sum(mathematics) / len(mathematics) >= 0.98
    completions = [c for c in cases if c["source_key"] in (
        "gsm8k_completions", "mr_math", "prm800k_reference", "prm800k_swapped", "mr_gsm8k", "skythought_math500",
        "skythought_olympiadbench", "prime_gaokao", "prime_olympiadbench", "skythought_aime_amc", "processbench",
        "processbench_omnimath", "mrben_math", "bbmistake_arith", "mathdial_vtg", "mathcheck_gsm", "deltabench_examples",
        "parc_perl", "plan_and_solve", "zero_shot_cot", "theoremqa_errors", "gaokao_fib_teacher", "ghosts_math",
        "mathodyssey_deepseek_v3", "omnimath_gpteval", "sydney_gpt4o_math500", "sydney_gemini_math500", "gsmplus_gpt35",
        "gsmplus_abel70b", "tora70b_gsm8k", "llmadapters_zscot", "abel_gsm8k_outputs", "mathcoder_outs", "mathv_outputs",
        "ttc_allocation_golden200", "verifycot_gsm8k", "verifycot_math", "verifycot_addsub", "verifycot_aqua",
        "cumreason_math_cot", "cumreason_math_php", "re2_gsm8k_chatgpt", "re2_svamp_4omini", "shibukizero_a5",
        "sandrewxu_a5", "guochenmeinian_a5", "ru_simple_evals", "hardmath_nondim", "prmbench_qwq_ann")]
    assert len(completions) >= 5200
    assert sum(verify(c["response"], c["gold"]).correct == c["expected"] for c in completions) / len(completions) >= 0.985
    wrong = [c for c in completions if not c["expected"] and not is_policy(c)]  # a verifier that says "correct" too
    assert len(wrong) >= 2350 and sum(verify(c["response"], c["gold"]).correct for c in wrong) <= 2  # easily fails


@pytest.mark.parametrize("response,gold,expected", [
    ("$\\frac{v_{0}}{r_{0}} \\frac{1}{\\left(1+r / r_{0}\\right)^{3 / 2}}$",
     "$\\frac{v_0 \\cdot \\left(\\frac{r_0}{r + r_0}\\right)^{0.5}}{(r + r_0)}$", True),
    ("\\boxed{a_1 + a_2}", "a_2+a_1", True), ("\\boxed{a_1 + a_2}", "a_1+a_3", False), ("\\boxed{4210_{5}}", "4210_5", True),
    ("10weeks", "10", True), ("\\boxed{2pi}", "2\\pi", True),
])
def test_subscripted_symbols_and_glued_units(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("\\boxed{7:32}", "\\frac{7}{32}", True), ("\\boxed{2:4}", "1:2", True), ("\\boxed{3:4}", "4:3", False),
    ("$\\frac{S_1}{S_2}=\\frac{7}{32}$", "7:32", True), ("\\boxed{x \\in \\{1, 2\\}}", "1, 2", True),
    ("The answer is $\\boxed{1}$ or $\\boxed{2}$.", "\\{1, 2\\}", True), ("\\boxed{[1,2]}", "\\{1,2\\}", False),
    ("\\boxed{(-\\infty,0]\\cup[1,\\infty)}", "x \\le 0 \\text{ or } x \\ge 1", True),
    ("\\boxed{x \\leq 0 \\text{ or } x \\geq 1}", "(-\\infty, 0] \\cup [1, +\\infty)", True),
    ("\\boxed{\\text{(A) } 5}", "A", True), ("\\boxed{A}", "\\text{(A)}", True), ("\\boxed{5}", "\\text{(A) } 5", True),
    ("\\boxed{y = 2x}", "x = y/2", True), ("\\boxed{y=2x}", "y=3x", False),
    ("Final Answer: The final answer is 1,000. I hope it is correct.", "1000", True),
    ("\\boxed{\\$1,\\!000}", "1000", True), ("\\boxed{f^{-1}(x) = \\frac{x-1}{2}}", "\\frac{x-1}{2}", True),
])
def test_ratios_sets_options_and_prose(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("\\boxed{0.0666668}", "\\boxed{0.066666793}", True), ("The final answer is \\boxed{2/3}.", "answer is 0.6666667", True),
    ("\\boxed{0.666667}", "\\frac23", True), ("\\boxed{0.666666}", "\\frac23", False), ("\\boxed{2.232}", "2.23", False),
    ("\\boxed{0.067}", "0.066793", False), ("\\boxed{2.1569}", "\\frac{110}{51}", False),
])
def test_a_decimal_with_six_or_more_places_is_an_approximation(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,text", [
    ("We compute it.\n\n# Answer\n\n\\frac{1}{2}", "\\frac{1}{2}"),
    ("Steps...\n\n## Final Answer\n\nThe final answer is $\\frac{3}{4}$", "\\frac{3}{4}"),
    ("# Answer\n\n**12**", "12"),
])
def test_answer_heading(response, text):
    got = extract_answer(response)
    assert got.text == text and got.rule == "answer_heading"


@pytest.mark.parametrize("response,gold,expected", [
    ("\\boxed{\\emptyset}", "\\varnothing", True), ("\\boxed{\\emptyset}", "\\{0\\}", False),
    ("\\boxed{\\langle 1, 2 \\rangle}", "(1,2)", True), ("\\boxed{(-\\infty, \\infty)}", "\\mathbb{R}", True),
    ("\\boxed{x \\in \\mathbb{R}}", "(-\\infty,\\infty)", True), ("\\boxed{\\tan^{-1}(1)}", "\\frac{\\pi}{4}", True),
    ("\\boxed{\\sin^2 x}", "1-\\cos^2 x", True), ("\\boxed{0.\\overline{3}}", "\\frac13", True),
    ("\\boxed{1.2\\overline{45}}", "\\frac{137}{110}", True), ("\\boxed{0.\\overline{3}}", "0.3", False),
])
def test_empty_set_angle_brackets_reals_inverse_trig_repeating_decimals(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


def test_random_latex_soup_never_raises_and_stays_fast():
    """Random mixtures of the tokens the issue-21 rules look at: verify returns a verdict for each, quickly."""
    import random
    toks = ["\\boxed{", "}", "{", "\\frac", "\\sqrt", "[", "]", "(", ")", "x", "=", "<", ">", "\\le", "|", ",", ";",
            " and ", " or ", "1", "2", "0", "-", "+", "^", "_", "\\pi", "\\infty", "\\cup", "\\neq", "\\approx", "%",
            "\\text{", "cm", "Yes", "(B)", "A.", "\\begin{pmatrix}", "\\end{pmatrix}", "\\\\", "&", "\\begin{array}{cc}",
            ":", ".", "\\overline{3}", "\\emptyset", "\\langle", "\\mathbb{R}", "\\tan^{-1}", "i", "$", "\\!", "\n",
            "# Answer\n", "The final answer is ", "0.1234567"]
    rng = random.Random(21)
    start = time.perf_counter()
    for _ in range(2000):
        r = "".join(rng.choice(toks) for _ in range(rng.randint(1, 25)))
        g = "".join(rng.choice(toks) for _ in range(rng.randint(1, 12)))
        assert isinstance(verify(r, g).correct, bool)
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize("response,gold,expected", [
    ("(a) we get \\boxed{3}. Then (b) gives \\boxed{5}.", "3, 5", True),
    ("(a) we get \\boxed{3}. Then (b) gives \\boxed{5}.", "5, 3", True),
    ("(a) we get \\boxed{3}. Then (b) gives \\boxed{5}.", "3, 6", False),
    ("First \\boxed{2}, no wait, the answer is \\boxed{5}", "5", True),
    ("First \\boxed{2}, no wait, the answer is \\boxed{5}", "2", False),
])
def test_a_gold_in_several_parts_matches_the_last_boxes(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("The answer is 0,5.", "0.5", True), ("The probability is $0,25$.", "\\frac14", True), ("\\boxed{3,5}", "3.5", True),
    ("The answer is 12,5 cm.", "12.5", True), ("\\boxed{3,5}", "3, 5", True), ("\\boxed{3,5}", "35", False),
    ("\\boxed{1,234}", "1234", True), ("\\boxed{1,234}", "1.234", False),
])
def test_decimal_commas(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("Thus the solutions are $x = 2$ and $x = 3$.", "2, 3", True),
    ("Thus the solutions are $x = 2$ and $x = 3$.", "2, 4", False),
    ("We had $y=7$ before; so $x = 3$.", "3", True),
])
def test_a_gold_in_several_parts_matches_the_last_math_spans(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("\\sin(90^{\\circ}-x)", "\\cos(x)", True), ("\\boxed{\\sin 30^\\circ}", "\\frac12", True),
    ("\\boxed{\\cos 60^\\circ}", "\\frac{\\sqrt3}{2}", False), ("\\boxed{30^\\circ}", "30", True),
])
def test_degrees_inside_a_trig_function_are_an_angle(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a unit in a text command after the value, whatever its length
    ("\\boxed{100\\text{ km/h}}", "100", True), ("\\boxed{9.8 \\, \\text{m/s}^2}", "9.8", True),
    ("\\boxed{4\\textnormal{ m}}", "4", True), ("\\boxed{4 \\text{ meters}}", "4 \\text{ m}", True),
    ("\\boxed{5\\,\\mathrm{cm}^2}", "5", True), ("\\boxed{4\\textnormal{ m}}", "5", False),
    ("\\boxed{3+2\\mathrm{i}}", "3+2i", True), ("\\boxed{3+2\\mathrm{i}}", "3", False),
    # set-builder notation is the set its relation describes
    ("\\boxed{\\{x \\mid x > 2\\}}", "(2, \\infty)", True), ("\\boxed{\\{x | x > 2\\}}", "(2, +\\infty)", True),
    ("\\boxed{\\left\\{x \\mid 1 \\le x < 3\\right\\}}", "[1, 3)", True), ("\\boxed{\\{x|x>2\\}}", "[2, +\\infty)", False),
    ("\\boxed{\\{x \\in \\mathbb{R} : x \\le 0\\}}", "(-\\infty, 0]", True), ("\\boxed{\\{x : x \\le 0\\}}", "(-\\infty, 0)", False),
    # 'x != a' is the union of two open rays
    ("\\boxed{(-\\infty,3)\\cup(3,\\infty)}", "x \\neq 3", True), ("\\boxed{x \\ne 3}", "(-\\infty,3)\\cup(3,\\infty)", True),
    ("\\boxed{x \\ne 3}", "(-\\infty,3]\\cup(3,\\infty)", False), ("\\boxed{x \\ne 2}", "(-\\infty,3)\\cup(3,\\infty)", False),
    # labelled values on both sides pair by name, not by position or as a bag of values
    ("\\boxed{b=3, a=2}", "a=2, b=3", True), ("\\boxed{a=3,b=2}", "a=2, b=3", False),
    ("\\boxed{x=1, y=2, z=3}", "z=3, x=1, y=2", True), ("\\boxed{x=2, y=1}", "x=1, y=2", False),
    ("\\boxed{x = 3 \\text{ or } x = -2}", "x=-2, x=3", True),
    # vmatrix is a determinant, not the matrix
    ("\\boxed{\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}}", "-2", True),
    ("\\boxed{\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}}", "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", False),
    # a final answer stated only in prose; a decimal comma in prose
    ("Final Answer: The number of ways is 120. I hope it is correct.", "120", True),
    ("Final Answer: The number of ways is 120. I hope it is correct.", "12", False),
    ("Final Answer: The probability is 0.25. I hope it is correct.", "\\frac14", True),
    ("Final Answer: The value is \\frac{1}{4}. I hope it is correct.", "0.25", True),
    ("Final Answer: There are 5 red balls and 7 blue, so 12 in all. I hope it is correct.", "12", True),
    ("Final Answer: There are 5 red balls and 7 blue, so 12 in all. I hope it is correct.", "5", False),
    ("Final Answer: The final answer is 12, 15. I hope it is correct.", "12, 15", True),
    ("Final Answer: The final answer is 12, 15. I hope it is correct.", "12", False),
    ("Answer: the shape has 4 sides", "5", False), ("So the result is 3,14.", "3.14", True),
    ("Die Antwort ist 2,5 Meter.", "2.5", True), ("Die Antwort ist 2,5 Meter.", "25", False),
    ("So the answer is 1,2,3", "1, 2, 3", True),
])
def test_issue21_units_set_builder_neq_names_prose(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # binomial coefficients
    ("\\boxed{\\binom{5}{2}}", "10", True), ("\\boxed{\\dbinom{6}{3}}", "20", True), ("\\boxed{\\binom{6}{3}}", "21", False),
    ("\\boxed{\\binom{n}{2}}", "\\frac{n(n-1)}{2}", True), ("\\boxed{\\binom{100000}{50000}}", "1", False),
    # \fracab: one-letter arguments without braces
    ("\\fracab", "\\frac{a}{b}", True), ("\\fracab", "\\frac{b}{a}", False),
    # a solution written as a set of labelled values
    ("\\boxed{\\{x=1, y=2\\}}", "(1,2)", True), ("\\boxed{\\{x=2, y=1\\}}", "(1,2)", False),
    # a row or column vector against a tuple, in order
    ("\\boxed{\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}}", "(2,-1)", True),
    ("\\boxed{\\begin{pmatrix} 2 \\\\ -1 \\end{pmatrix}}", "(-1,2)", False),
    ("\\begin{matrix} \\frac12 \\\\ 1 \\end{matrix}", "[0.5, 1]", True),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "(1,2,3,4)", False),
    # times of day: compared as times once either side has seconds or a.m./p.m.; a bare 'a:b' stays a ratio
    ("20:34", "20:34:00", True), ("20:34", "08:34 \\text{P.M.}", True), ("20:35", "08:34 \\text{P.M.}", False),
    ("8:34", "08:34 PM", False), ("\\boxed{8:34 a.m.}", "8:34", True), ("\\boxed{2:4}", "1:2", True),
    # a yes/no answer followed by its reason
    ("\\boxed{\\text{Yes, it is possible}}", "Yes", True), ("\\boxed{\\text{No, it is not}}", "Yes", False),
    ("Answer: True. Because x > 0", "true", True), ("Answer: False, since 3 > 2", "true", False),
    # a box holding a sentence with the answer in it
    ("\\boxed{\\text{The answer is } 42}", "42", True), ("\\boxed{\\text{The answer is } 42}", "41", False),
])
def test_issue21_binomials_vectors_times(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # |x|, floor and ceiling, max/min, gcd/lcm
    ("\\boxed{\\left|x\\right|}", "$|x|$", True), ("\\boxed{|{-3}|}", "3", True), ("\\boxed{\\lvert -3 \\rvert}", "-3", False),
    ("\\boxed{2|x|}", "2|x|", True), ("\\boxed{|x-1|+|x+1|}", "|x+1|+|x-1|", True), ("\\boxed{|x-1|+|x+1|}", "|x+1|+|x-2|", False),
    ("\\boxed{\\left\\lfloor \\frac{n}{2} \\right\\rfloor}", "$\\lfloor n/2 \\rfloor$", True),
    ("\\boxed{\\lfloor \\frac{n}{2} \\rfloor}", "$\\lceil n/2 \\rceil$", False), ("\\boxed{\\lfloor 3.7 \\rfloor}", "3", True),
    ("\\boxed{\\lceil 3.2 \\rceil}", "3", False), ("\\boxed{\\max(a,b)}", "$\\max(a, b)$", True), ("\\boxed{\\max(3,5)}", "3", False),
    ("\\boxed{\\gcd(12,18)}", "6", True), ("\\boxed{\\gcd(12,18)}", "4", False), ("\\boxed{\\operatorname{lcm}(4,6)}", "12", True),
    # finite sums and products; polynomial sums in closed form (the index 'i' is not the imaginary unit there)
    ("\\boxed{\\sum_{k=1}^{n} k}", "$\\frac{n(n+1)}{2}$", True), ("\\boxed{\\sum_{k=1}^{n} k}", "\\frac{n(n-1)}{2}", False),
    ("\\boxed{\\sum_{i=1}^{10} i}", "55", True), ("\\boxed{\\sum_{i=1}^{10} i}", "56", False),
    ("\\boxed{\\prod_{i=1}^{5} i}", "120", True), ("\\boxed{\\sum_{k=1}^{n} k^2}", "\\frac{n(n+1)(2n+1)}{6}", True),
    # numbers beyond a float compare in mpmath's range (were equal to anything: inf against inf), integers exactly
    ("\\boxed{2^{1300}}", "7", False), ("\\boxed{10^{400}}", "10^{401}", False), ("\\boxed{10^{400}}", "10^{400}", True),
    ("\\boxed{10^{400}\\sqrt2}", "\\sqrt{2}\\cdot 10^{400}", True), ("\\boxed{10^{-400}}", "0", False),
    ("\\boxed{1000000001}", "1000000000", False), ("\\boxed{0.333333333333}", "1/3", True),
    # a qualifier after an equation ('for all x') is not part of the answer
    ("\\boxed{f(x) = x}", "$f(x)=x \\text{ for all } x \\in \\mathbb{R}$", True),
    ("\\boxed{f(x) = 2x}", "$f(x)=x \\text{ for all } x$", False),
    # residues: '5 \\pmod 7', '5 (mod 7)' are the residue 5
    ("\\boxed{5}", "$5 \\pmod 7$", True), ("\\boxed{5}", "5 (mod 7)", True), ("\\boxed{6}", "5 \\pmod{7}", False),
])
def test_issue21_abs_floor_operators_qualifiers_residues(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("text", [
    "\\boxed{" + "|" * 3000 + "}", "\\boxed{" + "|x" * 1500 + "}", "\\boxed{" + "\\lfloor " * 500 + "1" + "\\rfloor " * 500 + "}",
    "\\boxed{" + "\\gcd(" * 40 + "1" + ", 2)" * 40 + "}", "\\boxed{\\binom{10^{100}}{3}}", "\\boxed{\\gcd(10^{500}+1, 3)}",
    "\\boxed{\\begin{vmatrix}" + " \\\\ ".join([" & ".join(["x"] * 40)] * 40) + "\\end{vmatrix}}",
    "\\boxed{\\{x \\mid " + "x > 1, " * 500 + "\\}}", "\\boxed{\\prod_{i=1}^{200} 10^{20}}",
    "\\boxed{\\sum_{k=1}^{10^{1000}} k^{10}}", "\\boxed{\\sum_{k=1}^{n} 2^{k}}", "\\boxed{\\sum_{k=1}^{10^{9}} k!}", "Final Answer: The value is " + "1, " * 3000 + "2. I hope it is correct.",
])
def test_new_constructs_stay_bounded_and_never_pass(text):
    """Inputs built from this session's constructs (|.|, floor, gcd, binom, vmatrix, set-builder, prose) return a
    verdict (refused or unequal), never an exception or a pass."""
    assert verify(text, "7").correct is False


@pytest.mark.parametrize("response,gold,expected", [
    # unions of sets, one-element sets, set differences and 'and x != a'
    ("\\boxed{\\{1\\} \\cup \\{2,3\\}}", "\\{1,2,3\\}", True), ("\\boxed{\\{1\\} \\cup \\{2,4\\}}", "\\{1,2,3\\}", False),
    ("\\boxed{\\{5\\}}", "5", True), ("\\boxed{5}", "\\{5\\}", True), ("\\boxed{\\{5\\}}", "6", False),
    ("\\boxed{\\mathbb{R} \\setminus \\{-1\\}}", "x \\neq -1", True),
    ("\\boxed{\\mathbb{R} \\setminus \\{-1\\}}", "(-\\infty,-1)\\cup(-1,\\infty)", True),
    ("\\boxed{\\mathbb{R} \\setminus \\{1\\}}", "x \\neq -1", False), ("\\boxed{[1,3] \\setminus \\{1\\}}", "(1,3]", True),
    ("\\boxed{x > -1 \\text{ and } x \\neq 2}", "(-1,2)\\cup(2,\\infty)", True),
    ("\\boxed{x > -1 \\text{ and } x \\neq 2}", "(-1,\\infty)", False),
    # units: after any value (2\\pi cm^2), with a '~' (\\mathrm{~cm})
    ("\\boxed{5\\mathrm{~cm}}", "5", True), ("\\boxed{2\\pi \\text{ cm}^2}", "2\\pi", True), ("\\boxed{\\pi \\text{ m}}", "2\\pi", False),
    # the Unicode minus sign, e-notation
    ("\\boxed{\u22125}", "-5", True), ("The answer is \u22125.", "-5", True), ("\\boxed{\u22125}", "5", False),
    ("\\boxed{1.2e3}", "1200", True), ("\\boxed{1.2E-3}", "0.0012", True), ("\\boxed{1.2e3}", "120", False),
    # several options chosen
    ("\\boxed{A, C}", "AC", True), ("\\boxed{AC}", "A, C", True), ("\\boxed{A, C}", "A, D", False), ("\\boxed{(A) and (C)}", "AC", True),
    # x > 0 is assumed only between two sides with fractional powers: \\sqrt{x^2} is |x|, not x
    ("\\boxed{\\sqrt{x^2}}", "x", False), ("\\boxed{\\sqrt{x^2}}", "|x|", True), ("\\boxed{x^{-1/2}}", "\\frac{1}{\\sqrt{x}}", True),
])
def test_issue21_set_operations_units_minus_options(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a closing back-reference ('And that is our final answer.') points at the answer stated just before it, and
    # wins over an earlier 'the answer is <the unknown>' that the solution went on to compute
    ("Since $a_9=a_1$, the answer is $(a_1)^9$.\nWe solve for $a_1$ and get $a_1 = -1$.\n"
     "So $(a_1)^9=-1$, and that is our final answer.", "-1", True),
    ("Since $a_9=a_1$, the answer is $(a_1)^9$.\nSo $(a_1)^9=1$, and that is our final answer.", "-1", False),
    ("So, our answer is $p_F=\\frac{5}{24}$.\nBut we need $m+n$.\nSo, $m+n=29$.\nAnd that is our final answer.", "29", True),
    ("So, our answer is $p_F=\\frac{5}{24}$.\nBut we need $m+n$.\nSo, $m+n=28$.\nAnd that is our final answer.", "29", False),
    ("We get 1440 and 960.\n$1440$ is the larger number, so that must be the answer", "1440", True),
    ("The final answer is 42. That is our answer.", "42", True), ("The final answer is 41. That is our answer.", "42", False),
    # 'answer' as a verb is not a marker: 'the questions he did not answer is 100 - 80, which is 20'
    ("The number of questions he did not answer is 100 - 80, which is 20.\nThen 7x = 392, so\n\nx = 56", "56", True),
    ("The number of questions he did not answer is 100 - 80, which is 20.\nThen 7x = 392, so\n\nx = 56", "20", False),
    ("The answer is 20.", "20", True), ("Answer is 20.", "20", True),
    # Chinese answer markers
    ("所以，答案是x^2", "x^2", True), ("所以，答案是x^3", "x^2", False), ("因此答案为 12。", "12", True),
    # a marker followed by words that do not read as an answer: the value worked out after it speaks
    ("So the answer is C(5,4) times C(10,8), where ! means factorial.\nI get 5 times 45, which is equal to 225.", "225", True),
    ("So the answer is C(5,4) times C(10,8), where ! means factorial.\nI get 5 times 45, which is equal to 226.", "225", False),
    ("The answer is 5 apples and 3 oranges.\nThen 225.", "225", False),
])
def test_real_completion_answer_markers(response, gold, expected):
    """Kinds from real completions with human labels (the dev set's prm800k_reference and trinity sources)."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a gold 'a \\pm b' is two answers; a response that gives each in its own math span matches it
    ("So the real roots of the equation are $1 + \\sqrt{19}$ and $1 - \\sqrt{19}$", "1 \\pm \\sqrt{19}", True),
    ("So the two solutions are $x = \\frac{1}{2\\sqrt{2} + 3}$ and $x = 2\\sqrt{2} + 3$.", "3 \\pm 2 \\sqrt{2}", True),
    ("So the real roots of the equation are $1 + \\sqrt{19}$ and $1 + \\sqrt{19}$", "1 \\pm \\sqrt{19}", False),
    ("So the real roots of the equation are $1 + \\sqrt{19}$ and $-1 - \\sqrt{19}$", "1 \\pm \\sqrt{19}", False),
    ("So the root is $1 - \\sqrt{19}$", "1 \\pm \\sqrt{19}", False),
    ("The roots are \\boxed{1 + \\sqrt{19}} and \\boxed{1 - \\sqrt{19}}.", "1 \\pm \\sqrt{19}", True),
    # a conversion written as an equation whose right-hand side is the gold in another base
    ("So $555_{10} = 4210_5$.", "4210_{5}", True), ("Yes. $555_{10}=4210_{5}$.", "4210_{5}", True),
    ("$10101001110_{2} = 2516_{8}$", "2516_8", True), ("So $555_{10} = 4211_5$.", "4210_{5}", False),
    ("So $4210_{5} = 555_{10}$.", "4210_{5}", False),
    # an aligned display's rows read like an align environment: the chain's last right-hand side
    ("we get\n\\[\\begin{aligned}\nx &= 1+2 \\\\\n&= 3\n\\end{aligned}\\]", "3", True),
    ("we get\n\\[\\begin{aligned}\nx &= 1+2 \\\\\n&= 4\n\\end{aligned}\\]", "3", False),
    ("\\[\\begin{aligned} A v &= \\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix} + \\begin{pmatrix} 0 \\\\ 1 \\end{pmatrix} \\\\ "
     "&= \\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix} \\end{aligned}\\]", "\\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix}", True),
    ("\\[\\begin{aligned} A v &= \\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix} + \\begin{pmatrix} 0 \\\\ 1 \\end{pmatrix} \\\\ "
     "&= \\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix} \\end{aligned}\\]", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", False),
])
def test_real_completion_answer_forms(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("text", [
    "did not answer is " * 20_000 + "7", "And that is our final answer. " * 20_000,
    "$x$, and that is our final answer" + " " * 100_000 + ".",
    "\\[\\begin{aligned}" * 3000 + "7" + "\\end{aligned}\\]" * 3000,
    "\\[\\begin{aligned}" + "x &= 7 \\\\ " * 20_000 + "\\end{aligned}\\]",
    "The answer is " + "C(5,4) times " * 20_000 + "where ! means factorial.\n" + "7 " * 20_000,
    "答案是" * 30_000,
    "<answer>" * 30_000 + "7", "<answer>" * 20_000 + "7" + "</answer>" * 20_000, "</think>" * 30_000 + "7",
    "<|end_of_thought|>" * 10_000 + "\\boxed{8}", "(" * 150_000 + "1/2", "The answer is " + "one two " * 20_000,
    "<think>" * 30_000 + "7", "<|begin_of_thought|>" * 10_000 + "the answer is 8",
    "$5$" + " " * 100_000 + "is not", "5 is not a solution " * 20_000,
    "There are " * 30_000 + "two", "\n".join(["There are two ways"] * 20_000),
    "Check: 1 ✓ " * 20_000, "-" * 100_000 + " Check 5", "1 (about 2" * 20_000, "5, attained " * 20_000,
    "Would you like 3?\n" * 20_000, "The answer is $1$" + ", $2$" * 20_000 + " " * 50_000 + "x",
    "7 " + " " * 100_000 + "(about 3)", "Answer } " * 20_000, "3:" * 50_000 + "45",
])
def test_real_completion_rules_stay_linear(text):
    """The back-reference, aligned-display and marker rules on long inputs return within a second, and never raise."""
    import time
    start = time.perf_counter()
    verify(text, "8")
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("response,gold,expected", [
    # a gold that is a sentence is read for its value, like a response ('The number is 4.')
    ("It is 4.", "The number is 4.", True), ("It is 5.", "The number is 4.", False), ("\\boxed{4}", "The number is 4.", True),
    ("\\boxed{no solution}", "no solution", True), ("\\boxed{5}", "five apples", False),
    # 'the answers are a and b' is a list, in a response and in a gold
    ("The answers are 4 and 12.", "The answers are $\\boxed{4}$ and $\\boxed{12}$.", True),
    ("The answers are 4 and 12.", "The answers are 4, 12, and 5.", False),
    ("The answers are 4 and 13.", "4, 12", False),
])
def test_sentence_golds_and_plural_answers(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a reasoning trace is read from after its end-of-thinking tag: candidates tried while thinking are not the answer
    ("<think>Maybe \\boxed{3}? No: 2+2=4.</think>\nThe answer is 4.", "4", True),
    ("<think>Maybe \\boxed{3}? No: 2+2=4.</think>\nThe answer is 4.", "3", False),
    ("<|begin_of_thought|>\nTry 5: \\boxed{5} fails.\n<|end_of_thought|>\n<|begin_of_solution|>\nSo $x = 7$.\n"
     "<|end_of_solution|>", "7", True),
    ("<|begin_of_thought|>\nTry 5: \\boxed{5} fails.\n<|end_of_thought|>\n<|begin_of_solution|>\nSo $x = 7$.\n"
     "<|end_of_solution|>", "5", False),
    ("<think>so the answer is \\boxed{6}", "6", False),  # no end tag: cut off while thinking, a candidate, no answer
    ("<think>so the answer is \\boxed{6}</think>", "6", True),  # nothing after the tag: the whole text is read
    # '<answer>...</answer>' (R1-zero format) wins over boxes and numbers elsewhere; its contents are read as an answer
    ("<think>2+2=5</think>\n<answer>4</answer>", "4", True), ("<think>2+2=4</think>\n<answer>5</answer>", "4", False),
    ("Earlier I wrote \\boxed{3}. <answer>4</answer>", "3", False), ("<answer>\\frac{1}{2}</answer>", "0.5", True),
    ("<answer>The answer is 12 apples.</answer>", "12", True), ("<answer>The answer is 13.</answer>", "12", False),
    ("<answer></answer>", "10", False),
    # a number word is the number it names, in a marker's sentence or as the whole answer
    ("Therefore, I'm confident that the answer is three boxes contain neither pens nor pencils.", "3", True),
    ("Therefore, I'm confident that the answer is three boxes contain neither pens nor pencils.", "4", False),
    ("Therefore, the final answer is that the graph of the parabola has two $y$-intercepts.", "2", True),
    ("Therefore, the final answer is that the graph of the parabola has two $y$-intercepts.", "1", False),
    ("The answer is twenty-one.", "21", True), ("The answer is twenty-one.", "20", False),
    ("Final Answer: seven", "7", True), ("\\boxed{\\text{three}}", "3", True), ("\\boxed{three}", "\\text{three}", True),
    ("So the answer is two or three.", "2", False), ("So the answer is two or three.", "3", False),
    ("The answer is one of the two roots.", "1", False), ("The answer is Evelyn.", "\\text{Evelyn}", True),
    # a response cut off inside an unclosed bracket has no final answer; a closed one still does
    ("Expanding:\n\nx^2 + y^2 < x^2 + kx + (k^2)/4 + y^2 - ky + (1/2", "1/2", False),
    ("so x = (1/2)", "1/2", True), ("the ratio is 1/2", "1/2", True),
    # a braced numeric subscript followed by a digit is a log base, not a number base: \\log_{10}2 is not \\log_{102}
    ("\\boxed{(4, \\log_{10}(2))}", "(4,\\log_{10}2)", True), ("\\boxed{\\log_{10}(3)}", "\\log_{10}2", False),
    ("\\boxed{\\log_{10}2}", "\\log_{10}(2)", True), ("\\boxed{4210_{5}}", "4210_5", True), ("\\boxed{4210_{5}}", "421_{5}", False),
    # digits of a number in a base written in spaced groups are one number: '2\\ 5\\ 1\\ 6_{8}' is 2516_8
    ("$010\\ 101\\ 001\\ 110_{2} = 2\\ 5\\ 1\\ 6_{8}$", "2516_8", True),
    ("$010\\ 101\\ 001\\ 110_{2} = 2\\ 5\\ 1\\ 7_{8}$", "2516_8", False), ("\\boxed{2\\ 5\\ 1\\ 6_{8}}", "2516_{8}", True),
    ("\\boxed{2, 5, 1, 6_{8}}", "2516_8", False),
])
def test_reasoning_traces_answer_tags_and_number_words(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a number after the last math that refers back to a given quantity ('the 7 people') does not replace it
    ("Right. $96+48=144$.\nOk, so there are $144$ ways to seat the 7 people.", "144", True),
    ("Right. $96+48=144$.\nOk, so there are $144$ ways to seat the 7 people.", "7", False),
    ("We have $x = 2$, so there are 5 solutions.", "5", True), ("We have $x = 2$, so there are 5 solutions.", "2", False),
    ("So $x = 3$, for a total of 6 values.", "6", True),
    # an exponent or an index in plain-text math is not the last number ('V = s^3' after the answer)
    ("So the volume is 6 times 6 times 6, which is 216 cubic inches.\nAlternatively, I could use the formula "
     "V = s^3, and get the same answer.", "216", True),
    ("So the volume is 6 times 6 times 6, which is 216 cubic inches.\nAlternatively, I could use the formula "
     "V = s^3, and get the same answer.", "3", False),
    ("the answer is 2^10", "10", False), ("the answer is 2^10", "1024", True),
    # a last line that states a count in words, with no digit, is the answer ('There are two values of $x$ ...')
    ("So the possible values of $x$ are $3$ and $-3$.\nThere are two values of $x$ that make the expression "
     "undefined.", "2", True),
    ("So the possible values of $x$ are $3$ and $-3$.\nThere are two values of $x$ that make the expression "
     "undefined.", "3", False),
    ("There are twelve ways to arrange them.", "12", True), ("There are twelve ways to arrange them.", "2", False),
    ("There are two cases.\nSo $x = 5$.", "5", True), ("$x = 5$. There are two cases to check, but both agree.", "5", True),
    ("There is one of each, so $x = 5$", "1", False), ("There is no solution.", "0", False),
    ("There are twelve ways to seat the seven people.", "12", True), ("There are twelve ways to seat the seven people.", "7", False),
    ("There are two values of $x$ that make the denominator zero.", "0", False),
])
def test_closing_remarks_after_the_answer(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a value in bold in the closing paragraph (no box, no marker) is the answer, not a number after it
    ("The sum is **5050**. Gauss paired terms: $1 + 100$, $2 + 99$, ..., making $50$ pairs of $101$.", "5050", True),
    ("The sum is **5050**. Gauss paired terms: $1 + 100$, $2 + 99$, ..., making $50$ pairs of $101$.", "101", False),
    ("So you need **8 buses** (7 buses would only carry 280).", "8", True),
    ("So you need **8 buses** (7 buses would only carry 280).", "280", False),
    ("$$t = 360/120 = 3$$\n\nSo they meet after **3 hours**, at 12:00 PM if they left at 9:00 AM.", "3", True),
    ("So, **2.5 km = 2500 m**.", "2500", True), ("So, **2.5 km = 2500 m**.", "2.5", False),
    ("**Area = 24 cm²**", "24", True), ("So the total is **12.** Then we add 5 more to check: 17.", "12", True),
    # ... not a bold heading or label, and not a bold value the text denies, hedges, bounds or asks about
    ("1. **Find the rate:** 6/2 = 3\n\n**Step 2.** 3 * 7 = 21", "21", True),
    ("**1.** 6/2 = 3, so in 7 hours we get 21", "21", True), ("**1.** 6/2 = 3, so in 7 hours we get 21", "1", False),
    ("It is not **4**.", "4", False), ("Is it **4**?", "4", False), ("It is **3**, or maybe **4**.", "4", False),
    ("The total is at least **4**.", "4", False), ("**4** is wrong; it is 3.", "4", False),
    ("It takes approximately **3 or 4** hours.", "4", False), ("Maybe **4**.", "4", False),
    # a clause after the value that names where it is attained is not the answer, though it holds an '='
    ("Completing the square, $f(x) = (x-3)^2 - 4$. The minimum value is $-4$, attained at $x = 3$.", "-4", True),
    ("因此，函数的最小值为 $-4$，此时 $x = 3$。", "-4", True),
])
def test_a_bold_closing_value_is_the_answer(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a stated answer in several parts: each item labelled ('mean = 6, variance = 8'), or as many numbers as the
    # gold has parts with nothing else of math ('(i) $5$ (ii) $3$', '鸡有 23 只，兔有 12 只')
    ("**Answers:** mean $= 6$, variance $= 8$.", "6, 8", True), ("**Answers:** mean $= 6$, variance $= 8$.", "8", False),
    ("**Answers:** mean $= 6$, variance $= 8$.", "6, 9", False), ("Answer: y = 2, x = -1", "(-1, 2)", True),
    ("**Final answers:** (i) $5$ (ii) $3$", "5, 3", True), ("**Final answers:** (i) $5$ (ii) $3$", "5, 4", False),
    ("答：鸡有 23 只，兔有 12 只。", "23, 12", True), ("答：鸡有 23 只，兔有 12 只。", "23, 13", False),
    ("答：鸡有 23 只，兔有 12 只。", "23", False),
    ("The answer is $[-3, 11)$.", "(-3, 11)", False),  # an interval is not its two end points
    ("The answer is 2 + 3 and 4.", "2, 3", False),  # more math than the parts
])
def test_a_stated_answer_in_several_parts(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


_RETRACTED = "Answer: 12\n\nWait, I made an error above: the second box holds 7, not 5, so the total should be 14, not 12."
_WRONG_FINAL = ("**Final answer:** $x = 5$\n\nHmm wait, let me check. Plugging in: $2(5) - 3 = 7 \\ne 9$. So $x = 5$ is "
                "wrong. Correct: $2x - 3 = 9 \\Rightarrow x = 6$.")


@pytest.mark.parametrize("response,gold,expected", [
    # a retraction after the stated answer that names it, denies it or owns to an error puts the later value in its
    # place; a cue about something else leaves the answer as it was
    (_RETRACTED, "14", True), (_RETRACTED, "12", False), (_WRONG_FINAL, "6", True), (_WRONG_FINAL, "5", False),
    ("The answer is 12. The total should be 14, not 12.", "14", True),
    ("The answer is 12. Note that option B is wrong because 5 is not 7.", "12", True),
    ("The answer is 12. It should be clear that 12 = 3 * 4.", "12", True),
    ("The answer is 12. The answer is 12 because 3 * 4 = 12, which is what the problem asked.", "12", True),
])
def test_a_retraction_after_the_stated_answer(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


_CASES = ("Hmm, this depends on interpretation:\n\n- If the order matters, there are $P(5,2) = 20$ ways.\n- If the order "
          "doesn't matter, there are $\\binom{5}{2} = 10$ ways.")


@pytest.mark.parametrize("response,gold,expected", [
    # a reply that ends on a list of answers under different conditions, and picks none, has no answer ...
    (_CASES, "10", False), (_CASES, "20", False),
    # ... but one that picks, or steps that begin with 'If' (GSM8K's style), do
    (_CASES + "\n\nThe problem asks for unordered pairs, so the answer is $10$.", "10", True),
    ("If there were 800 beds before, 800 - 700 = 100 remain.\nIf 20 of the 96 lights do not work, 96 - 20 = 76 work.",
     "76", True),
])
def test_a_list_of_conditional_answers_is_no_answer(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a box or a marker answer in a question is asked, not stated; uncertainty earlier in the sentence hedges it
    ("Could the answer be $\\boxed{12}$?", "12", False), ("Is $\\boxed{12}$ correct? I'm not sure.", "12", False),
    ("What is $3 \\cdot 4$? $\\boxed{12}$", "12", True), ("So the answer is $\\boxed{12}$.", "12", True),
    ("The answer is 12? No, that's wrong. I give up.", "12", False), ("I am not sure whether it is 12.", "12", False),
    ("I don't know if it is 12.", "12", False), ("I am sure it is 12.", "12", True),
    # a second answer offered after the stated one ('Or maybe B.') makes both a hedge
    ("The answer is A. Or maybe B.", "A", False), ("The answer is A. Or maybe B.", "B", False),
    ("The answer is 12. Or 13", "12", False),
    ("The answer is 12. Or, to be precise, it is 12 apples.", "12", True),
    ("The answer is 12.\n\nOr we could compute $3 \\cdot 4 = 12$ directly.", "12", True),
    # polynomials compare exactly: a tiny term or a long decimal that is not the gold is not the gold ...
    ("\\boxed{3 + 10^{-20} x}", "3", False), ("\\boxed{x^2 + 1 + 10^{-12}x}", "x^2+1", False),
    ("\\boxed{x^2 + 1.0000000001}", "x^2+1", False), ("\\boxed{(x+1)^2 + 0.0000000001}", "x^2 + 2x + 1", False),
    # ... but a long decimal may stand for a fraction with no finite decimal, as for plain numbers
    ("\\boxed{0.3333333333x}", "x/3", True), ("\\boxed{0.5x+0.25}", "x/2+1/4", True),
    # e-notation written with \\text{E-11}; a spaced lower-case 'e' stays Euler's number (2 e - 1)
    ("$\\boxed{5.3\\text{E-11}}$", "5.3e-11", True), ("$\\boxed{5.3\\text{E-11}}$", "5.3e-12", False),
    ("\\boxed{2 e-1}", "0.2", False),
])
def test_asked_hedged_perturbed_and_e_notation_answers(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # plain-text and SymPy spellings: Greek letters by name or by character, more functions, n!! the double factorial
    ("α + β", "alpha + beta", True), ("sin(θ) + cos(φ)", "sin(theta) + cos(phi)", True),
    ("\\boxed{2\\omega t}", "2 omega t", True), ("\\boxed{\\varphi}", "\\phi", True), ("\\boxed{\\gamma}", "\\delta", False),
    ("arccsc x", "arcsin (1/x)", True), ("sech x", "1/cosh x", True), ("sech x", "1/sinh x", False),
    ("|x|+y", "Abs(x)+y", True), ("n!", "factorial(n)", True), ("(n+1)!", "factorial(n+1)", True),
    ("5!!", "15", True), ("5!!", "120", False), ("cos(x)**2 + sin(x)**2 + y", "y + 1", True),
    ("y=x", "y=/=x", False), ("mx+b", "b+mx", True), ("(ab)c", "(cb)a", True), ("mx+b", "b+nx", False),
    ("<SOLUTION>10</SOLUTION>", "10", True),
    # equations of polynomials are proportional exactly or not at all (their values may agree to 12 places)
    ("\\boxed{\\Delta=3\\cdot10^{-11}}", "\\Delta=3.63\\cdot10^{-11}", False), ("\\boxed{2x+4y-3=0}", "y=-x/2+3/4", True),
    ("\\boxed{x > 1}", "-x < -1", True), ("\\boxed{x > 1}", "-x > -1", False),
    # a pick said to be right or chosen; a sign before a currency sign; yes / no for a True / False gold
    ("C. the third one", "C", True), ("C. the third one", "B", False), ("I think D is correct.", "D", True),
    ("I think D is correct.", "A", False), ("I choose C because x = 3.", "C", True),
    ("net change of -$40", "-40", True), ("net change of -$40", "40", False),
    ("Therefore, the answer is no.", "False", True), ("Therefore, the answer is no.", "True", False),
    ("\\boxed{True}", "Yes", True), ("\\boxed{No}", "Yes", False),
    # what a closing value is for, or comes with, is not the answer; after a marker a sentence names its answer first
    ("Step 8: Therefore, it will take 16 years for the tree to be 36 feet tall.", "16", True),
    ("Therefore, it would take John 15 minutes to go to the bathroom 6 times.", "15", True),
    ("The highest share was recorded in 2016, with 94% of schools having electricity.", "2016", True),
    ("After she gives 3 lollipops to Ella she has 17 - 3 = 14 lollipops.", "14", True),
    ("So we need 5 * 2300 = 11500 juices to produce 11500 - 4200 = 7300 bottles.", "7300", True),
    ("Answer: Mark needs 23 pounds of stuffing to make 4 chihuahua beds.", "23", True),
    ("Answer: Wendy earns 30 more badges than Amber in a 1 year time frame.", "30", True),
    ("Answer: In 3 years, she will have 15 badges.", "15", True),
    ("**Answer:** approximately 3 or 4 hours, depending on traffic.", "3", False),
    ("Therefore, the answer (arabic numerals) is fifty-two point six two.", "25.31", False),
])
def test_spellings_clauses_and_picks_of_other_graders_suites(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a sum in SymPy's syntax is the sum it writes; a negated conjunction of relations is what it says
    ("sum(2*k - 1, (k, 1, n))", "summation(2*k - 1, (k, 1, n))", True), ("n^2", "summation(2*k - 1, (k, 1, n))", True),
    ("1 + summation(2*k + 1, (k, 1, n-1))", "summation(2*k - 1, (k, 1, n))", True),
    ("summation(2*k + 1, (k, 1, n))", "summation(2*k - 1, (k, 1, n))", False),
    ("x>2 or -2>x", "not (x<=2 and -2<=x)", True), ("not (x<=2 and -2<=x)", "x>2 or -2>x", True),
    ("x>2 or -2>x", "not (x<2 and -2<=x)", False), ("The answer is 13, not 12.", "13", True),
    # an empty gold is no answer to match, whatever the response states
    ("Answer:\n4", "", False), ("So the final answer is **$4$**.", "", False), ("", "", False),
    ("Therefore, the answer is: yz=2xz-5z", "yz=2xz-5z", True),
])
def test_sympy_sums_and_negated_relations(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # quantities in units of one dimension convert exactly; another dimension, a direction or a wrong size does not
    ("10 g", "0.01 kg", True), ("10 g", "0.1 kg", False), ("\\boxed{2\\,\\mathrm{km}}", "2000 \\text{ m}", True),
    ("\\boxed{300 cm}", "3 m", True), ("\\boxed{3 cm}", "3 m", False), ("\\boxed{2 m^2}", "20000 cm^2", True),
    ("\\boxed{2 m^2}", "200 cm^2", False), ("\\boxed{90 min}", "1.5 hours", True), ("\\boxed{1 ft}", "12 in", True),
    ("\\boxed{5 kg}", "5000 m", False), ("\\boxed{12 km west}", "12000 m east", False),
    ("\\boxed{2 tons}", "4000 lb", False),  # a ton is 2,000 lb in one country and 1,000 kg in another: no conversion
    ("\\boxed{36 km/h}", "10 m/s", True), ("\\boxed{10 m/s}", "10", True), ("\\boxed{3 m/s}", "3 km/h", False),
    # compound and derived units (pint's definitions): N = kg m/s^2, mA, g cm^-2, megametre; a spelling of km/h that
    # pint would read as kilo-mph; a prefix in its case (Mm is no mm); another dimension is unequal
    ("9.8 kg m / s^2", "9.8 N", True), ("9.8 kg m / s^2", "9.7 N", False), ("9.8 kg m / s^2", "9.8 J", False),
    ("9.8 m / s^2", "9.8 N / kg", True), ("5000 mA", "5 A", True), ("500 mA", "5 A", False),
    ("0.2 g cm^-2", "2 kg m^-2", True), ("0.2 g cm^-2", "2 kg m^-3", False), ("0.002 megametre/hour", "2 km/h", True),
    ("$9.8\\,\\mathrm{kg\\,m/s^{2}}$", "9.8 N", True), ("$\\boxed{12 \\text{ kmph}}$", "12 km/h", True),
    ("$\\boxed{12 \\text{ Mm}}$", "12000 km", True), ("$\\boxed{12 \\text{ Mm}}$", "12 mm", False),
    ("4/2 kg m^-2", "2 kg m^-2", True), ("\\boxed{5 apples}", "5 apples", True), ("\\boxed{3 m}", "3 s", False),
    ("\\boxed{2 months}", "60 days", False),  # a month is 28 to 31 days: no conversion
])
def test_units_of_one_dimension_convert(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


_JSON_REPLY = '```json\n{\n    "reasoning": "The sum of these primes is \\\\( 264 \\\\) (left box and right box).",\n    "answer": @\n}\n```'


@pytest.mark.parametrize("response,gold,expected", [
    # a structured reply's "answer" field is its answer: a number, a list, a string read like an <answer> tag (an
    # option picked, a yes or no first, LaTeX written unescaped), a bare literal that is not JSON
    (_JSON_REPLY.replace("@", "264"), "264", True), (_JSON_REPLY.replace("@", "264"), "265", False),
    (_JSON_REPLY.replace("@", '["B", "F"]'), "B, F", True), (_JSON_REPLY.replace("@", '["B", "F"]'), "B", False),
    (_JSON_REPLY.replace("@", '"B) infinite solutions"'), "B", True), (_JSON_REPLY.replace("@", '"D) -3$ per person"'), "D", True),
    (_JSON_REPLY.replace("@", '"D) -3$ per person"'), "C", False),
    (_JSON_REPLY.replace("@", '"Yes, \\( y = 0 \\) is a singular solution."'), "Yes.", True),
    (_JSON_REPLY.replace("@", '"Yes, \\( y = 0 \\) is a singular solution."'), "No.", False),
    (_JSON_REPLY.replace("@", '"7/10 * pi"'), "$\\frac{7}{10}\\pi$", True), (_JSON_REPLY.replace("@", "2e"), "2e", True),
    (_JSON_REPLY.replace("@", "2e"), "2", False), (_JSON_REPLY.replace("@", "-1.0"), "$x=-1$", True),
    # a '!' after a digit or a bracket is a factorial, not the end of a sentence before an aside
    ("The number of ways is:\n\n8!/(4!(8-4)!) = 8!/(4!4!) = (8 * 7 * 6 * 5)/(4 * 3 * 2 * 1) = 70.\n", "70", True),
])
def test_structured_replies_and_factorials(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # an arithmetic of factorials closing the text is its answer, not its last digit
    ('The number of ways to arrange the letters of the word "MISSISSIPPI" is 11!/(4!4!2!1!).\n', "34650", True),
    ('The number of ways to arrange the letters of the word "MISSISSIPPI" is 11!/(4!4!2!1!).\n', "1", False),
    ("So the total number of arrangements is 2 x 5! x 5!.", "28800", True),
    ("So the total number of arrangements is 2 x 5! x 5!.", "5", False),
    ("So the answer is 11!/(4!4!2!1!).", "34650", True), ("The answer is 10! / (2! 8!)", "45", True),
    ("The answer is 10! / (2! 8!)", "10", False),
    # 'N!' at the end: an excited N or the factorial, either reading; never another number
    ("Therefore, the answer is: 100!", "100!", True), ("The answer is 5!", "5", True), ("The answer is 5!", "120", True),
    ("The answer is 5!", "24", False), ("The answer is 1/2004!", "1/2004!", True),
    # factorials past what is worked out exactly stay symbols: compared exactly where rational, else in mpmath's range
    ("$\\frac{1}{2004!}$", "1/2004!", True), ("$\\frac{2005}{2005!}$", "1/2004!", True),
    ("$\\frac{1}{2003!}$", "1/2004!", False), ("$1000! + 1$", "1000!", False), ("$1000!$", "1000!", True),
    # a count that is the result of the computation before it
    ("Therefore, there are 125 * 100 = 12,500 five-digit zip codes such that each of the first three digits is "
     "greater than 4.\n", "12500", True),
    ("Therefore, there are 125 * 100 = 12,500 five-digit zip codes such that each of the first three digits is "
     "greater than 4.\n", "4", False),
    # values far below 1 compare relatively where they truly differ; rational functions compare exactly at points
    ("10^(-50)*sin(x)", "10^(-50)*cos(x)", False), ("10^(-50)*sin(x)", "10^(-50)*sin(x)", True),
    ("sin(x)^2+cos(x)^2", "1", True), ("y=(a-x)^5999", "y=(x-a)^5999", False), ("y=(a-x)^41", "y=(x-a)^41", False),
    ("2y=2(x-a)^41", "y=(x-a)^41", True), ("y=(x-a)^41+1e-30", "y=(x-a)^41", False),
    ("(x-sqrt(2))*(x+sqrt(2))", "x^2-2", True), ("a=b/i", "i*a=b", True),
    # '(a)^(2)' opens an expression, not the option (a)
    ("(a)^(2)+(b)^(2)+(c)^(2)+2*a*b+2*b*c", "(a)^(2)+(b)^(2)+(c)^(2)+2*a*b+2*b*c+2*a*c", False),
    ("(a+b+c)^2", "(a)^(2)+(b)^(2)+(c)^(2)+2*a*b+2*b*c+2*a*c", True), ("(a) 5", "a", True),
])
def test_factorials_counts_and_exact_comparison(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a ratio of several terms is equal to its multiples; not to another ratio or to a ratio of fewer terms
    ("$\\boxed{2:4:6}$", "1:2:3", True), ("1:2:4", "2:4:6", False), ("1:2", "2:4:6", False),
    # a LaTeX group round the answer is no set; full-width forms are their ASCII; SymPy's sign, oo, re, factorial2
    ("{(0,9) \\cup (9,36)}", "(0,9) \\cup (9,36)", True), ("{(0,9) \\cup (9,37)}", "(0,9) \\cup (9,36)", False),
    ("m \uff0b n", "m + n", True), ("\uff11\uff12", "12", True), ("\uff11\uff13", "12", False),
    ("abs(n) * sgn(n)", "Abs(n)*sign(n)", True), ("abs(n) * sgn(n)", "Abs(n)", False),
    ("infty", "oo + 99", True), ("-infty + 99", "-oo", True), ("-infty", "oo", False),
    ("factorial2(5)", "15", True), ("3!!", "factorial2(3)", True), ("factorial2(5)", "120", False),
    # a \\text{} after a relation is its operand, not a unit; not a number is equal to nothing
    ("\\boxed{ML\\perp NK}", "\\text{ML} \\perp \\text{NK}", True),
    ("\\boxed{ML\\parallel NK}", "\\text{ML} \\perp \\text{NK}", False),
    ("\\boxed{3 + 0 \\cdot \\text{nan}}", "3", False), ("5 \\text{ cm}", "5", True),
])
def test_ratios_groups_and_sympy_spellings(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # in plain text I is SymPy's imaginary unit; in LaTeX it stays a letter
    ("I", "(-1)**(1/2)", True), ("e^(Ix)", "cos(x)+I*sin(x)", True), ("e^(Ix)", "cos(x)-I*sin(x)", False),
    ("2+I", "conjugate(2-I)", True), ("2-I", "conjugate(2-I)", False), ("1", "re(1+2*I)", True),
    ("2", "im(1+2*I)", True), ("1", "im(1+2*I)", False),
    # two logarithms equal on their real domain, though not as branches of the complex logarithm
    ("\\ln((x+1)/(1-x))", "-\\ln((1-x)/(x+1))", True), ("\\ln((x+2)/(1-x))", "-\\ln((1-x)/(x+1))", False),
    ("\\ln(x)", "\\ln(-x)", False), ("\\ln(1-x)", "\\ln(x-1)", False),
])
def test_imaginary_unit_and_real_logarithms(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a quantity in compound units after a marker is read whole; the bare value for a gold with a unit, as for m/s
    ("Therefore, the answer is: 2 kg m^-2", "2 kg m^-2", True), ("Answer:\n2000 g m^-2", "2 kg m^-2", True),
    ("Answer:\n2000 g m^-2", "2 kg m^-3", False), ("\\boxed{2}", "2 kg m^-2", True), ("\\boxed{3}", "2 kg m^-2", False),
    ("\\boxed{9.8}", "9.8 N", True), ("\\boxed{5 meters per second}", "18 km/h", True),
    # '10m' may be 10 times m; a prefix only on a unit's symbol or name ('pct' is no pico-carat)
    ("10m", "10", False), ("33.5 pct", "0.335", True),
    # segments named by their points, in a heading or a tag
    ("Step 1.\nStep 2.\n\n# Answer\n\nAE + AP = PD", "AE + AP = PD", True),
    ("<think>reasoning</think>\n<answer>AE + AP = PD</answer>", "AE + AP = PD", True),
    ("<answer>AB = CD</answer>", "AE + AP = PD", False),
])
def test_quantities_after_markers_and_point_names(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # Python's '==', SymPy's log(x, base), capitalised function names, names set between operators
    ("x**2 + x + 1 == 0", "x + 1 + x**2 == 0", True), ("x**2 + x + 2 == 0", "x + 1 + x**2 == 0", False),
    ("log(x) / log(10)", "log(x, 10)", True), ("log(x) / log(2)", "log(x, 10)", False),
    ("ArcSin(x) + Sin(x)**2 + Cos(x)**2", "1 + arcsin(x)", True), ("ArcSin(x)", "arccos(x)", False),
    ("2*V*(h)/(dE) - (d)/(2)", "((2*V)/(E*d))*(h - ((E*d**(2))/(4*V)))", True),
    ("W == (rho) * g*h*(DeltaV)", "W == h*rho*g*DeltaV", True), ("W == (rho) * g*(DeltaV)", "W == h*rho*g*DeltaV", False),
    ("It is 5 * 3", "15", False),
    ("arctan2(m, n)", "atan2(m, n)", True), ("arctan2(n, m)", "atan2(m, n)", False),
    ("\\boxed{\\operatorname{atan2}(1, 1)}", "\\frac{\\pi}{4}", True), ("\\boxed{\\operatorname{atan2}(1, -1)}", "\\frac{\\pi}{4}", False),
    # a currency sign after '####'; 回答： is a marker; △ and ▲ are minus signs in Japanese accounts
    ("Therefore, Alex charges #### $168 for 2 weeks of tutoring.", "168", True),
    ("Therefore, Alex charges #### $168 for 2 weeks of tutoring.", "2", False),
    ("回答: 42%", "42%", True), ("回答：100百万円", "100百万円", True), ("回答: 41%", "42%", False),
    ("△10.5%", "-10.5%", True), ("▲20%", "-20%", True), ("▲20%", "20%", False),
])
def test_sympy_syntax_and_markers_of_other_scripts(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a refusal, a restated problem or a spray of numbers gives no answer, though a value can be read off its end
    ("It would be 12 if x were positive, but x is negative, so there is no answer.", "12", False),
    ("I cannot solve this problem. The number in the problem was 12.", "12", False),
    ("The problem asks for the sum of 5 and 12.", "12", False),
    ("Find the remainder when $2^{100}$ is divided by $7$.", "7", False),
    (" ".join(str(n) for n in range(4950, 5000)), "4999", False), ("The primes are 2, 3, 5, 7, 11, 13, 17, 19", "19", False),
    # ... but a closing question after the stated value, a relative clause, a short list stay answers
    ("The total is 12. How many did you get?", "12", True), ("Which is just $(\\frac{16}{49},\\frac{48}{49})$.",
                                                              "(16/49, 48/49)", True),
    ("The primes are 2, 3, 5, 7, 11, 13, 17, 19", "2, 3, 5, 7, 11, 13, 17, 19", True),
    # a box in a quoted problem, given as an example, in a LaTeX comment, or that says it is wrong is not the answer
    ("> Problem: show that the answer is $\\boxed{3}$.\n\nI think it's 4.", "3", False),
    ("> Problem: show that the answer is $\\boxed{3}$.\n\nI think it's 4.", "4", True),
    ("The problem says: put your answer in \\boxed{}, e.g. \\boxed{3}. My answer: 5", "5", True),
    ("The problem says: put your answer in \\boxed{}, e.g. \\boxed{3}. My answer: 5", "3", False),
    ("Answer: $4$ % \\boxed{3}", "3", False), ("The answer is \\boxed{4}.\n> \\boxed{3}", "4", True),
    ("The answer is \\boxed{4}.\n> \\boxed{3}", "3", False), ("> **Final answer:** $\\boxed{5}$", "5", True),
    ("The growth is 50 % \\boxed{50\\%}", "50\\%", True), ("\\boxed{12 \\text{ is wrong}}", "12", False),
    # two options offered is none chosen
    ("The answer is B) 5 or C) 6", "B", False), ("\\boxed{\\text{(A) or (B)}}", "A", False),
])
def test_answers_not_given_and_boxes_not_stated(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


_FLOOD = "\\boxed{9} " * 400 + "\\boxed{42}"


@pytest.mark.parametrize("response,gold,expected", [
    # the gold as written is the gold, whatever extraction would take from it
    ("odd $n$", "odd $n$", True), ("odd $n$", "even $n$", False), ("   ", "  ", False),
    # a run of boxes: repeated, the value once; more than 8, the last one; a short list of parts stays a list
    (_FLOOD, "42", True), (_FLOOD, "9", False), ("\\boxed{9} \\boxed{9}", "9", True),
    ("\\boxed{9}, \\boxed{10}", "9, 10", True), ("\\boxed{9}, \\boxed{10}", "10", False),
    # a number in e-notation in prose
    ("That is 6.02e23 molecules\n", "6.02e23", True), ("That is 6.02e22 molecules\n", "6.02e23", False),
    # decimals of at most 6 places compare exactly; a long decimal keeps the tolerance
    ("1000000000.05", "1000000000", False), ("1000000000.0", "1000000000", True),
    ("0.3333333333", "\\frac{1}{3}", True), ("2.000001", "2", False),
    # a trailing LaTeX space is no punctuation; a named angle labels its value
    ("\\boxed{\\;\\angle APC = 74^\\circ\\;}", "74^\\circ", True), ("\\boxed{\\;\\angle APC = 75^\\circ\\;}", "74", False),
    # a value labelled after it ('2 = x')
    ("2", "2=x", True), ("2", "2 = y", True), ("3", "2=x", False), ("\\boxed{0.5}", "\\frac{1}{2} = y", True),
    # percent in words, and the percent of a fraction
    ("33.5 percent", "0.335", True), ("33.5 percentage", "33.5", True), ("33.5 pct", "0.335", True),
    ("33.5 percent", "0.34", False), ("\\frac{1}{2}\\%", "0.005", True),
    ("\\frac{1}{2}\\text{ percent}", "0.005", True), ("\\frac{1}{2}\\%", "0.05", False),
    ("4\\frac{1}{2}\\%", "\\frac{9}{2}", False),
    # other currency signs
    ("€50", "50", True), ("£25", "25", True), ("£25", "26", False),
    # a list in square brackets that cannot be an interval is the list, in order
    ("\\boxed{1, 2, 3}", "[1, 2, 3]", True), ("\\boxed{1, 3, 2}", "[1, 2, 3]", False), ("\\boxed{1, 2}", "[1, 2]", False),
    # an empty or unfinished last box takes the earlier boxes back; an answer stated after an empty one still counts
    ("\\boxed{42}\nthat was wrong, actually \\boxed{}\n", "42", False),
    ("\\boxed{42}\nthat was wrong, actually \\boxed{\n", "42", False), ("The answer is \\boxed{10", "10", False),
    ("I will put the answer in \\boxed{}. The answer is 5.", "5", True), ("\\boxed{\\boxed{5}}", "5", True),
    ("\\boxed{4} then \\boxed{ } and \\boxed{" * 5_000, "4", False),
    # units in any script inside \\text, at the end or after each item of a list; Chinese punctuation and 'or'
    ("\\boxed{365 \\text{ nghìn đồng}}", "365", True), ("\\boxed{682\\ \\text{nghìn đồng}}", "682", True),
    ("\\boxed{365 \\text{ nghìn đồng}; 520 \\text{ nghìn đồng}}", "365; 520", True),
    ("\\boxed{365 \\text{ km}; 520 \\text{ km}}", "365; 521", False), ("\\boxed{2 \\text{ and } 3}", "2, 3", True),
    ("x=2 或 x=3", "x=3, x=2", True), ("x=2 或 x=4", "x=3, x=2", False), ("1, [-1,1]", "$1 、[-1,1]$.", True),
    ("1，2", "1, 2", True),
    # a multiple-choice pick named as a choice or option
    ("Step 5: The choice that matches is Choice D.\nSolution: Choice_D", "D", True),
    ("Step 5: The choice that matches is Choice D.\nSolution: Choice_D", "C", False),
    ("Solution: Choice\\_B", "B", True), ("Solution: Choice_C: 3.82\nSo it takes 3.82 hours.", "C", True),
    ("So $x = \\boxed{68}$.\nSolution: Choice_D", "D", True), ("Solution: Choice_D\nThe correct answer is 3.", "D", True),
    ("Therefore, the correct answer choice is D: 2/3.", "D", True), ("The correct choice is Choice_B: $\\frac{5}{24}$", "B", True),
    ("Therefore, the only correct option is (C) Plane.", "\\text{(C)}", True),
    ("Choice C is incorrect, as it leaves out Friday.", "C", False), ("The answer is option (B).", "A", False),
])
def test_classes_from_other_graders_suites(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)


_EXPANDED = ("14336000000*x^13+250265600000*x^12+1862860800000*x^11+7623925760000*x^10+18290677760000*x^9"
             "+24744757985280*x^8+14567212351488*x^7-3267871272960*x^6-6408053107200*x^5+670406720000*x^4"
             "+1179708800000*x^3-429244800000*x^2+56696000000*x-2680000000")


@pytest.mark.parametrize("response,gold,expected", [
    # a function's parenthesised argument ends at ')': cos(x)^2 is (cos x)^2, not cos(x^2)
    ("\\boxed{\\sin(x)^2}", "\\sin(x^2)", False), ("cos(x)^2+sin(x)^2", "1", True), ("2*cos(x)^2-1", "cos(2*x)", True),
    ("\\boxed{\\sin x^2}", "\\sin(x^2)", True), ("\\boxed{\\sin^2(x)}", "\\sin(x)^2", True),
    # functions written in plain text; a whole one-line expression is the answer, not its last number
    ("abs(x-1)", "|x-1|", True), ("abs(x-1)", "|x+1|", False), ("(2*sec(2*t)^2-2)/2", "\\tan^2(2t)", True),
    ("arcsin(1/2)", "\\frac{\\pi}{6}", True), ("asinh(x)", "\\ln(x+\\sqrt{x^2+1})", True),
    # a single inequality in any variables: one relation when read as D > 0 the D differ by a positive factor
    ("a<b", "b>a", True), ("a<b", "a>b", False), ("a<b", "a<=b", False), ("3x^2<9a", "x^2-3a<0", True),
    ("3x^2<9a", "x^2-3a>0", False), ("x \\neq 2", "x-2 \\neq 0", True), ("a \\neq b", "a \\neq 2b", False),
    ("x^2>4", "x>2 \\text{ or } x<-2", False),  # nothing is solved: the restated inequality is not its solution
    # unions of intervals as the sets they are
    ("x \\geq 1 \\text{ or } 1 \\leq x", "x \\geq 1", True), ("[0,2] \\cup [1,3]", "[0,3]", True),
    ("(0,1) \\cup (1,2)", "(0,2)", False),
    # the log laws, for positive arguments
    ("\\ln(a^2 b)", "2\\ln a + \\ln b", True), ("x\\ln y", "\\ln(y^x)", True), ("\\ln(a+b)", "\\ln a + \\ln b", False),
    # polynomials compare exactly; a difference far from 0 is sampled too
    (_EXPANDED, "512*(2*x+5)^7*(5*x-1)^5*(70*x+67)", True),
    (_EXPANDED.replace("-2680000000", "-2680000001"), "512*(2*x+5)^7*(5*x-1)^5*(70*x+67)", False),
    ("|x+100|-100", "x", False), ("|x+100|-100", "|100+x|-100", True),
    # intersections and differences of intervals, computed as sets
    ("(1,5] \\cap [2,7)", "[2,5]", True), ("(1,5] \\cap [2,7)", "[2,5)", False),
    ("[0,6] \\setminus (1,2)", "[0,1] \\cup [2,6]", True), ("[0,6] \\setminus (1,2)", "[0,1) \\cup [2,6]", False),
    ("\\mathbb{R} \\setminus [-1,1]", "(-\\infty,-1) \\cup (1,\\infty)", True),
])
def test_classes_from_answer_checkers_of_computer_algebra(response, gold, expected):
    assert verify(response, gold).correct is expected, verify(response, gold)



# The same final answer written the ways models write it. A verdict the dev set gets right must not change with the
# format: property evidence over other people's cases, not a table of formats written beside the extractor.
_ANSWER_FORMATS = [
    "Let me work it out.\nFinal Answer: The final answer is $@$. I hope it is correct.",
    "Some reasoning here.\n\n**Answer:** $@$", "We compute carefully. The answer is \\(@\\).",
    "Therefore, the answer is: @", "Thus\n\\[\n\\boxed{@}\n\\]", "Step 1.\nStep 2.\n\n# Answer\n\n@",
    "So we get $\\boxed{@}$.", "So the final answer is **$@$**.", "<think>\nmaybe 7\n</think>\nThe answer is $\\boxed{@}$",
    "The result: $\\boxed{\\displaystyle @}$", "## Final Answer\n\n$$\\boxed{@}$$", "Reasoning.\n#### @",
    "<think>reasoning</think>\n<answer>@</answer>", "Hence $\\fbox{@}$", "Therefore, $@$ is the answer.",
    "So\n$$@$$\nis our final answer.", "Answer:\n@", "所以答案是 $\\boxed{@}$。", "\\textbf{Final Answer:} $\\boxed{@}$",
]


def test_a_verdict_does_not_depend_on_how_the_answer_is_presented():
    import random
    from rlvr_verify.dev.devset import load_devset
    cases = [c for c in load_devset() if c["response"].count("\\boxed") == 1]
    random.Random(0).shuffle(cases)
    checked, changed = {True: 0, False: 0}, []
    for c in cases:
        if checked[c["expected"]] >= 150:
            continue
        v = verify(c["response"], c["gold"])
        if v.correct != c["expected"] or not v.extracted or "$" in v.extracted:
            continue
        checked[c["expected"]] += 1
        for form in _ANSWER_FORMATS:
            response = form.replace("@", v.extracted)
            if verify(response, c["gold"]).correct != c["expected"]:
                changed.append((response, c["gold"], c["expected"]))
    assert checked == {True: 150, False: 150}
    assert not [x for x in changed if not x[2]]  # a wrong answer stays wrong in every format
    assert len(changed) <= 3, changed  # a right one stays right (a choice's text after its letter may not)


def test_every_gold_in_every_answer_format_is_correct_against_itself():
    """The dev set's golds (other people's answers, 1,000+ forms), each written as a model's final answer in every
    format above: the verifier must find it and call it equal to itself."""
    import re
    from rlvr_verify.dev.devset import load_devset
    golds = sorted({c["gold"] for c in load_devset()
                    if 0 < len(c["gold"].strip()) < 100
                    and not re.search(r"\$|\n|\\\[|#|answer|\bis\b|\\x0c|\x0c|boxed", c["gold"])})  # a boxed gold is a
    # whole solution ('Solution: \\boxed{42}'), not an answer to write in each format
    assert len(golds) >= 1000
    missed = [(form, gold) for gold in golds for form in _ANSWER_FORMATS
              if not verify(form.replace("@", gold), gold).correct]
    assert len(missed) <= 60, missed  # a text gold that opens with a number ('1 and odd prime numbers') after a
    # marker reads as that number, one with a number word in it ('line three') as the number; '$x$ is the answer'
    # for a gold 'x' reads as an unknown, not a value; a sentence gold with \text{} in it ('f(m) = km \text{ for any
    # positive integer constant } k.') or made of words and symbols ('also not math ???', 'test == abc'); a teaching
    # checker's logic, vector and degree syntax ('a = (not b)', 'exists x elementof B union A', '2vec(x)',
    # '360 deg - 270 deg') and a sum of quantities ('2 cm + 3 cm'): 22 of these 45; a chemical equation ('2Na +
    # Cl2 = 2NaCl') after a marker reads as a sentence (its formulas are words), 'one mole' as the number 1: 14 more


def test_cases_written_from_peers_documented_behaviours():
    """1,466 pairs written from inventories of what other graders' library code handles: math-verify (681);
    Qwen2.5-Math, PRM800K, lm-eval's minerva_math, verl and rllm (387); OlympiadBench, MathArena, DeepSeek-Math,
    OpenCompass, lighteval, HARP and Hendrycks MATH (398): extraction priorities, normalisations, comparison rules
    (their test files were not read), with negatives for each class. Cases marked POLICY are conventions either way
    (truncated boxes, unevaluated integrals, tolerances, unit conversions, rounded golds)."""
    rows = [json.loads(line) for line in (Path(__file__).parent / "data" / "verifier_feature_cases.jsonl").open()]
    assert len(rows) >= 1450 and len({r["class"] for r in rows}) >= 160 and len({r["peer"] for r in rows}) >= 80
    mathematics = [r for r in rows if "POLICY" not in r["note"]]
    wrong = [(r["class"], r["response"], r["gold"], r["expected"]) for r in mathematics
             if verify(r["response"], r["gold"]).correct != r["expected"]]
    assert len(wrong) <= 4, wrong  # a pick with no marker ('the right one is B'); 'the domain is all real numbers.';
    # abc against cba (a run of letters read as a word)
    assert not [w for w in wrong if not w[3]]  # none of the wrong answers passes


@pytest.mark.parametrize("response,gold,expected", [
    ("$\\boxed{\\log 100}$", "2", True), ("$\\boxed{\\log 100}$", "3", False), ("\\boxed{log(1000)}", "3", True),
    ("$\\boxed{\\log 8/\\log 2}$", "3", True), ("\\boxed{\\ln x}", "\\log x", True), ("\\boxed{\\log e^2}", "2", True),
    ("\\boxed{\\log 2}", "0.30103", False), ("\\boxed{\\log 2}", "0.301029995664", True), ("\\boxed{\\log_2 8}", "3", True),
])
def test_a_bare_log_reads_as_either_usual_base(response, gold, expected):
    """\\log without a base is base 10 in school and contest usage and natural in calculus: a value that matches
    under either reading is right (a wrong value matches under neither)."""
    assert verify(response, gold).correct is expected, verify(response, gold)


def test_an_approximation_in_math_delimiters_matches_either_side():
    assert verify("\\boxed{0.577}", "\\(\\frac{\\sqrt{3}}{3} \\approx 0.577\\)").correct
    assert verify("\\boxed{\\frac{1}{\\sqrt{3}}}", "$\\frac{\\sqrt{3}}{3} \\approx 0.577$").correct
    assert not verify("\\boxed{0.578}", "\\(\\frac{\\sqrt{3}}{3} \\approx 0.577\\)").correct


@pytest.mark.parametrize("response,gold,expected", [
    ("\\boxed{12 \\text{ km west}}", "12 \\text{ km east}", False), ("\\boxed{12 \\text{ km west}}", "12", True),
    ("\\boxed{3:45 \\text{ AM}}", "3:45 PM", False), ("\\boxed{25^\\circ \\text{C}}", "25^\\circ \\text{F}", False),
    ("\\boxed{25\\,^\\circ\\text{C}}", "25^\\circ C", True), ("\\boxed{25}", "x^2 + y^2 = 25", False),
    ("\\boxed{x + y = 7}", "7", True), ("\\boxed{y = 2, x = -1}", "(2,-1)", False), ("\\boxed{y=-1, x=2}", "(2,-1)", True),
    ("\\boxed{1011_3}", "1011_2", False), ("\\boxed{10110_2}", "10110", True), ("\\boxed{3 \\text{ million}}", "3000000", True),
    ("\\boxed{3 \\text{ million}}", "3", False), ("So the answer is one hundred and five.", "105", True),
    ("\\boxed{7}", "seven", True), ("\\boxed{8}", "seven", False), ("\\boxed{a^3+b^3+c^3-3abc}", "(a+b+c)(a^2+b^2+c^2-ab-bc-ca)", True),
])
def test_qualifiers_scales_and_equations_change_the_value(response, gold, expected):
    """A direction, a half of the day or a temperature scale is part of the answer; a scale word multiplies; a gold
    equation in variables is a curve, not its right-hand side; labelled values map onto a point by name."""
    assert verify(response, gold).correct is expected, verify(response, gold)


def _mutations(gold: str) -> list[str]:
    """Wrong answers made from a right one: a number changed, the sign flipped, a point's coordinates swapped, an
    interval's end made closed or open, an exponent raised, the last item dropped."""
    import re
    from rlvr_verify.normalize import top_level_split
    out = []
    m = re.search(r"(?<![_^{\\a-zA-Z])\d+", gold)  # a number that is no exponent or subscript
    if m:
        n = int(m.group(0))
        out += [gold[:m.start()] + str(n + 1) + gold[m.end():], gold[:m.start()] + str(n * 10 + 7) + gold[m.end():]]
    if re.fullmatch(r"\s*-?[\d.]+\s*", gold) and float(gold) != 0:
        out.append(gold.strip()[1:] if gold.strip().startswith("-") else "-" + gold.strip())
    point = re.fullmatch(r"\s*\(([^(),]+),([^(),]+)\)\s*", gold)
    if point and point.group(1).strip() != point.group(2).strip():
        out.append(f"({point.group(2)},{point.group(1)})")
    text = gold.strip()
    if re.fullmatch(r"[\[(][^\[\]()]*,[^\[\]()]*[\])]", text):
        out.append(text[:-1] + ("]" if text[-1] == ")" else ")"))
    power = re.search(r"\^\{?(\d+)", gold)
    if power:
        out.append(gold[:power.start(1)] + str(int(power.group(1)) + 1) + gold[power.end(1):])
    items = top_level_split(gold)
    if len(items) > 1:
        out.append(",".join(items[:-1]))
    return out


def test_a_gold_made_wrong_is_wrong():
    """Negatives generated from exact values: every right gold of the dev set and the peer-behaviour cases, changed
    in a way that changes its value, must not pass (3,000+ pairs)."""
    import re
    from rlvr_verify.dev.devset import load_devset
    rows = [json.loads(line) for line in (Path(__file__).parent / "data" / "verifier_feature_cases.jsonl").open()]
    golds = {c["gold"] for c in load_devset() + rows if c["expected"] and 0 < len(c["gold"]) < 60
             and not re.search(r"answer|\bis\b|gives|#|\$|\n", c["gold"])}  # values, not sentences
    pairs = [(wrong, gold) for gold in sorted(golds) if verify("\\boxed{%s}" % gold, gold).correct
             for wrong in _mutations(gold)]
    passed = [(wrong, gold) for wrong, gold in pairs if verify("\\boxed{%s}" % wrong, gold).correct]
    assert len(pairs) >= 2500
    # Known: a gold 'C. x = 42' compares by its option letter; an approximation 'a \approx b' matches either side;
    # '(E),' is the option E; mutations that keep the value: 'im(2+2*I)' from 'im(1+2*I)' is still 2, 'oo + 100'
    # still oo, 'sin(501pi)' still 0; '500\' made from '500\,\mathrm{cm}' (its unit dropped at the comma) is the value
    # without its unit, which is right; 'V = 41V' for the gold 'V = 40V' (a voltage named V with the unit V): as
    # equations in the letter V both say V = 0
    assert len(passed) <= 14, passed


@pytest.mark.parametrize("response,gold,expected", [
    ("\\boxed{1.000000001}", "1", False), ("\\boxed{0.1234567891}", "0.1234567892", False),
    ("\\boxed{\\frac{10^{30}+1}{10^{30}}}", "1", False), ("\\boxed{1 - 10^{-15}}", "1", False),
    ("\\boxed{1.9999999999999998}", "2", False), ("\\boxed{0.6666667}", "\\frac23", True),
    ("\\boxed{0.5, 0.3333333333}", "1/2, 1/3", True), ("\\boxed{3.14159265}", "\\pi", True),
])
def test_exact_values_compare_exactly(response, gold, expected):
    """Two exact values (integers, decimals, fractions) are equal only when they are; a decimal of six or more places
    stands for a fraction that rounds to it; only irrationals get the float tolerance."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("The answer is 7. Actually no, let me recompute: it is 9. Final answer: 9", "9", True),
    ("The answer is 7. Actually no, let me recompute: it is 9. Final answer: 9", "7", False),
    ("The final answer is 9. Answer: see above", "9", True),
    ("The answer is 11.\n\nProblem: What is 3+9?\nSolution: The answer is 12.", "12", False),
    ("Die Antwort ist 17. Probe: 17 - 3 = 14.", "14", False), ("Ответ: 8", "8", True),
    ("\\textbf{Answer:} 7", "7", True), ("The answer is \\boxed 5.", "5", True),
    ("The limit is negative infinity.", "-\\infty", True), ("The possible values are 2, 3, and 5.", "2,3,5", True),
])
def test_the_last_stated_answer_of_this_response(response, gold, expected):
    """A model that corrects itself means its last stated answer; a base model that goes on to invent the next
    few-shot problem answered before it; answer phrases in other languages are markers too."""
    assert verify(response, gold).correct is expected, verify(response, gold)


def test_completions_in_the_styles_of_current_models():
    """625 pairs over 307 whole completions written in the styles of current models (R1/QwQ/Qwen3 traces, cut off
    or finished, GPT-style markdown, Llama, Mistral, Minerva; checks, offers and asides after the answer; multi-part
    answers; Chinese and Spanish). Before the closing-text rules ours missed 93 of the 597 that are not a convention
    (40 passed a wrong answer), math-verify 133; after them 41 (12), then 32 (10) once a bold value in the closing
    paragraph reads as the answer ('So it takes **8 hours**.'), 29 (10) once an answer in labelled parts does, 25
    (8) once a retraction after the answer ('so the total should be 14, not 12') does, 24 (7) once a closing list
    of conditional answers is none, 22 (6) once a marker's sentence with no 'is' gives its first number. Left: a
    first value stated before a later one in the same sentence ('The son is 12 and the father is 36'), undecided
    candidates in prose, bold closing statements after a box."""
    rows = [json.loads(line) for line in (Path(__file__).parent / "data" / "verifier_style_cases.jsonl").open()]
    assert len(rows) >= 600
    judged = [(r, verify(r["response"], r["gold"]).correct) for r in rows if "POLICY" not in r["note"]]
    passed_wrong = [r["response"][-120:] for r, v in judged if v and not r["expected"]]
    missed = [r["response"][-120:] for r, v in judged if not v and r["expected"]]
    assert len(passed_wrong) <= 6, passed_wrong
    assert len(missed) <= 16, missed


def _judged(name: str):
    rows = [json.loads(line) for line in (Path(__file__).parent / "data" / name).open()]
    judged = [(r, verify(r["response"], r["gold"]).correct) for r in rows if "POLICY" not in (r["note"] or "")]
    return rows, [r["response"][-100:] for r, v in judged if v and not r["expected"]], [
        r["response"][-100:] for r, v in judged if not v and r["expected"]]


def test_answers_a_policy_could_learn_to_exploit():
    """738 pairs written to game a lenient reward (mostly wrong answers): hedges ('3 \\\\approx 4', a spray of boxes,
    '\\\\boxed{3} or \\\\boxed{4}'), negations ('The answer isn't 12.'), questions ('Is it 12?'), boxes hidden in code
    blocks or comments, nested boxes, units that differ (3 cm for 3 m), false arithmetic ('4 = 3'), indeterminate
    forms. Before the fixes they prompted ours passed 73 of the 524 wrong ones (math-verify 75), after them 27, then
    18 once asked boxes, uncertainty ('not sure whether'), 'Or maybe B.' and exact polynomials were read. Left:
    single guesses a policy gains nothing from (a counting sequence read as its last value), an echoed problem,
    quotes, a box in a LaTeX comment."""
    rows, passed_wrong, missed = _judged("verifier_exploit_cases.jsonl")
    assert len(rows) >= 700
    assert len(passed_wrong) <= 18, passed_wrong
    assert len(missed) <= 2, missed


def test_gold_answers_as_datasets_store_them():
    """462 pairs with golds as 22 datasets store them (GSM8K '#### 1,000', AIME '033', MathQA 'a ) 21', ASDiv
    '5 (apples)', OlympiadBench's list repr, TheoremQA lists, multi-part solutions with a box per part) and answers
    written another way. Left: rounded float golds against exact answers (a convention here), Chinese numerals, a
    paraphrased text answer."""
    rows, passed_wrong, missed = _judged("verifier_gold_format_cases.jsonl")
    assert len(rows) >= 450
    assert not passed_wrong
    assert len(missed) <= 10, missed


@pytest.mark.parametrize("response,gold,expected", [
    ("\\boxed{x \\ge 1 \\text{ and } x \\le 1}", "x = 1", True), ("\\boxed{x \\ge 1 \\text{ and } x \\le 2}", "x = 1", False),
    ("\\boxed{(x>4 \\text{ and } x<5) \\text{ or } (x<-4 \\text{ and } x>-5)}", "(x>-5 and x<-4) or (4<x and x<5)", True),
    ("\\boxed{(x>4 \\text{ and } x<5) \\text{ or } (x<-4 \\text{ and } x>-6)}", "(x>-5 and x<-4) or (4<x and x<5)", False),
    ("\\boxed{x > 1 \\text{ or } x = 1}", "x \\geq 1", True), ("\\boxed{x > 1 \\text{ or } x = 2}", "x \\geq 1", False),
    ("\\boxed{2(x+1) > 3 \\text{ and } x < 5}", "\\frac12 < x < 5", True),
    ("\\boxed{(x>4 \\text{ and } x<5) \\text{ or } x<-4}", "(-\\infty,-4) \\cup (4,5)", True),
    ("\\boxed{(x>4 \\text{ and } x<5) \\text{ or } x<-4}", "(-\\infty,-4) \\cup (4,6)", False),
    ("\\boxed{x^2 > 4}", "x<-2 \\text{ or } x>2", False),  # solving is the question: nothing beyond linear
    ("\\boxed{x > 1 \\text{ and } x \\neq 3}", "x > 1", False),
    ("\\boxed{[1, x > 2]}", "[1, 2 < x]", True), ("\\boxed{[x > 2, 1]}", "[1, 2 < x]", False),
    ("\\boxed{[1, x > 2]}", "[1, 3 < x]", False), ("\\boxed{\\{1, x > 4\\}}", "\\{4 < x, 1\\}", True),
    ("\\boxed{\\{2, x > 4\\}}", "\\{4 < x, 1\\}", False), ("\\boxed{x > 2, y < 3}", "2 < x, 3 > y", True),
    ("\\boxed{x > 2, y < 3}", "2 < x, 4 > y", False), ("\\boxed{[x \\neq 2]}", "[x - 2 \\neq 0]", True),
])
def test_relations_compare_as_the_sets_they_describe(response, gold, expected):
    """Linear relations in one variable joined by and/or, alone, beside an interval, or as items of a list or set,
    are equal when they describe the same set of reals."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("\\boxed{|x+1000|-1000}", "|x+1001|-1001", False), ("\\boxed{|x+1000|-1000}", "|x+1000|-1000", True),
    ("\\boxed{\\max(x, 5000)}", "\\max(5000, x)", True), ("\\boxed{|x-y|+|y-5000|}", "|5001-y|+|y-x|", False),
    ("\\boxed{|2x - 4000|}", "2|x-2000|", True),
])
def test_functions_with_kinks_are_compared_past_every_kink(response, gold, expected):
    """|x + 1000| - 1000 and |x + 1001| - 1001 agree wherever x > -1000: they are also sampled far out."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("Wrong answer: 42", "42", False), ("This is not the final answer: 42", "42", False),
    ("This isn't the final answer: 42", "42", False), ("Candidate answer: 42", "42", False),
    ("Do not use this answer: 42", "42", False), ("错误答案：42", "42", False),
    ("Previous answer: 40. Final answer: 42", "42", True), ("Wrong answer: 7; corrected final answer: 42", "42", True),
    ("Wrong answer: 42; corrected final answer: 7", "42", False), ("Old answer: 41\nNew answer: 42", "42", True),
    ("\\boxed{42\\text{ wrong}}", "42", False), ("\\boxed{42\\mbox{wrong}}", "42", False),
    ("\\boxed{42\\text{not\\ correct}}", "42", False), ("\\boxed{42} is wrong", "42", False),
    ("$\\boxed{42}$ (incorrect).", "42", False), ("\\boxed{42} is the answer", "42", True),
    ("\\boxed{5 \\text{ wrong answers}}", "5", True), ("So he made \\boxed{5} wrong answers.", "5", True),
    ("The answer is \\boxed{42}. It is correct.", "42", True),
])
def test_a_value_labelled_or_boxed_as_wrong_is_no_answer(response, gold, expected):
    """A value under a label that denies it ('Wrong answer: 42', 'Candidate answer: 42') or a box that says it is
    wrong is not stated as the answer; a later stated answer still counts, and 'wrong' as a noun's word does not."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("The answer is Faraday was able to sell 291 sunflowers after 3 days.", "291", True),
    ("The answer is Faraday was able to sell 291 sunflowers after 3 days.", "3", False),
    ("So the answer is the total weight is 0.8333333333333333 ounces.", "0.8333333333333334", True),
    ("\\boxed{0.8333333333333333}", "0.8333333333333334", True), ("\\boxed{0.123456}", "0.123457", False),
    ("“Answer: 400”", "400", True), ("“Answer: 400”", "40", False),
    ("\\boxed{2007+\\frac\\pi 2}", "2007+\\frac{\\pi}{2}", True), ("\\boxed{\\frac\\pi 3}", "\\frac{\\pi}{2}", False),
    ("\\boxed{\\begin{pmatrix}1&-1\\\\1&\\phantom -1\\end{pmatrix}}", "\\begin{pmatrix}1&-1\\\\1&1\\end{pmatrix}", True),
    ("\\boxed{\\begin{pmatrix}1&-1\\\\1&\\phantom -1\\end{pmatrix}}", "\\begin{pmatrix}1&-1\\\\1&-1\\end{pmatrix}", False),
    ("\\boxed{2} then \\boxed 2.5$", "2", False), ("The answer is \\boxed 2.5.", "2.5", True),
    ("\\boxed{n^2-n-1}", "m_{\\max}=n^2-n-1", True), ("\\boxed{n^2-n}", "m_{\\max}=n^2-n-1", False),
    ("(-4-2j)", "-4 - 2i", True), ("\\boxed{3+4j}", "3-4i", False), ("\\boxed{2j}", "2i", True),
    ("\\boxed{3i+4j}", "3i+4j", True), ("\\boxed{j}", "1", False),
])
def test_prose_after_a_verb_floats_in_full_and_braceless_commands(response, gold, expected):
    """Found in the tenth round's completions and suites: after 'answer is', prose with its own verb names the answer
    first; two floats printed in full are one value; '\\frac\\pi 2', '\\phantom -1' and '\\boxed 2.5' as TeX reads
    them; typographic quotes round a stated answer; a label with a command in its subscript; j for the imaginary unit
    where the gold's only letter is i and the response's only letter j (engineering and Python)."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("log10(10^3)", "3", True), ("log2(8)", "3", True), ("log2(8)", "2", False),
    ("nCr(5,3)", "10", True), ("nPr(5,3)", "60", True), ("nPr(5,3)", "10", False), ("binom(m,n)", "nCr(m,n)", True),
    ("\\binom{5}{3}", "10", True), ("±sqrt(x)", "\\pm \\sqrt{x}", True), ("x ± y", "± y + x", True),
    ("‐42", "-42", True), ("‒42", "-42", True), ("‐42", "42", False),
    ("\\frac{d}{dx}(x^2) = 2x", "2x", True), ("\\frac{d}{dx}(x^2) = 3x", "2x", False),
    ("a = b", "c = b", False), ("\\boxed{z = 2x+1}", "y = 2x + 1", False), ("\\boxed{y = 2x+1}", "y = 2x + 1", True),
    ("\\boxed{b = a}", "a = b", True), ("\\boxed{k = \\frac{\\pi}{2}}", "x = \\frac{\\pi}{2}", True),
    ("The result: $\\boxed{\\displaystyle b}$", "B", True), ("$\\boxed{\\displaystyle C).}$", "D", False),
])
def test_calculator_names_unicode_signs_and_renamed_equations(response, gold, expected):
    """From the twelfth round's suites: log10/log2, binom/nCr/nPr as calculators write them, ± and the hyphens typed
    for a minus, d/dx before an equation's value; an option letter set in \\displaystyle; two equations in letters
    whose left-hand letters differ ('a = b', 'c = b') are not one value (a letter = a number still is)."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("\\[-\\boxed{15}.\\]", "-15", True), ("\\[-\\boxed{15}.\\]", "15", False), ("$x = -\\boxed{3}$", "-3", True),
    ("$-\\boxed{-2}$", "2", True), ("$a - \\boxed{3}$", "3", True), ("$5 -\\boxed{3}$", "3", True),
    ("$5 -\\boxed{3}$", "-3", False), ("—42", "-42", True), ("―42", "-42", True), ("—42", "42", False),
    ("x—y", "x-y", False), ("Fraction(30, 1)", "$30", True), ("Rational(3, 4)", "0.75", True),
    ("Fraction(3, 4)", "3", False), ("xyz", "x * y * z", True), ("ba", "a*b", True), ("ab", "a*c", False),
    ("yes", "x*y", False), ("xy", "x+y", False), ("**12**", "12", True), ("\\frac{1}{xz}", "1/(x*z)", True),
    ("\\frac{1}{xz}", "1/(x*y)", False), ("one and a half", "3/2", True), ("one and a half", "1/2", False),
    ("The answer is two thirds.", "2/3", True), ("three quarters", "0.75", True), ("seven", "7", True),
    ("seven", "8", False), ("half", "0.5", False), ("ANSWER: A1", "A", False), ("A1", "A1", True),
    ("x1 + x2", "x_1 + x_2", True), ("x2", "2x", False), ("N / 2^N", "$N2^{-N}$", True),
    ("C_n^3", "\\frac{n(n-1)(n-2)}{6}", True), ("$\\boxed{C_5^2}$", "10", True), ("C_{5}^{2}", "25", False),
    ("C_1^2 + C_2^2", "1", False),
    ("sqrt(1001885125670250202210728125403128548905806811602)", "sqrt(1001885125670250202210728125403128548905806811601)", False),
    ("51613*sqrt(376096873138962280636080063132060838729)", "sqrt(1001885125670250202210728125403128548905806811601)", True),
    ("e^{\\pi\\sqrt{163}}", "640320^3+744", False), ("1.4142135623730951", "\\sqrt{2}", True),
])
def test_values_written_outside_the_usual_forms(response, gold, expected):
    """From this round's cases and the dev set's misses: a minus written just before the box is the answer's sign (not
    the operator of 'a - \\boxed{3}'); an em dash or bar set against a number is a minus; Python's Fraction and
    sympy's Rational as code prints them; a bare run of letters is their product when the gold multiplies single
    letters; markdown bold round a bare answer; a bare LaTeX command with letters side by side; numbers in words with a
    fraction ('one and a half') and a bare number in words; a letter with digits right after it is an indexed name ('A1'
    is not option A, 'x1' is x_1; 'N2^{-N}' is still a product); C_n^k as Chinese textbooks write combinations (not
    where k > n); two exact values that agree to float precision but differ (sqrt(N), sqrt(N + 1) for a 52-digit N)."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("The answer is C because I computed the integral.", "C", True),
    ("I think D is correct.\n\nAfter checking again, the answer is \\boxed{A}.", "D", False),
    ("I think D is correct.\n\nAfter checking again, the answer is \\boxed{A}.", "A", True), ("**B**", "B", True),
    ("**(B)**", "B", True), ("**B**", "C", False), ("B. \\(6x^2 + 4x + 6\\)", "B", True),
    ("B. \\(6x^2 + 4x + 6\\)", "C", False), ("I would pick B — a safe choice.", "B", True),
    ("I'll go with (C).", "C", True), ("I'd pick A, but B is also possible.", "A", False),
    ("Answer: D, not B", "D", True), ("Answer: D, not B", "B", False),
    ("The vibration data point to bearing wear.\n\nC", "C", True),
    ("The data point to bearing wear.\n\nC", "D", False), ("Option A is tempting.\nB", "A", False),
    ("정답: C", "C", True), ("정답: C", "B", False), ("Answer: I think it is C", "C", True),
    ("Answer: I think it is C", "B", False), ("C. A pretty girl xxx", "C", True),
    ("C. A pretty girl xxx", "A", False), ("A. First compute x.\nThen we stop.", "A", False), ("选项B", "B", True),
    ("选项B", "C", False), ("验证选项 C：成立。", "C", False),
])
def test_option_letters_in_every_dress(response, gold, expected):
    """Option letters as replies write them (from issue threads of evaluation harnesses): in bold, with the option's
    text after it, picked with 'I would', alone on the last line, after 'I think it is', under Korean or Chinese labels
    (정답:, 选项B as the whole reply); not a hedge ('I'd pick A, but ...'), not a rejected alternative (', not B'), not
    an option merely mentioned ('验证选项 C'); a boxed letter is the pick, whatever the reply called correct before it."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("No, it does not follow.", "No", True), ("No, it does not follow.", "Yes", False),
    ("Yes, it is possible.", "yes", True), ("No, wait: yes it does.", "No", False), ("Nobody knows.", "No", False),
    ("The answer is C because I computed it.", "I", False), ("The answer is odd, since n is odd.", "odd", True),
    ("The answer is 12 because 3 times 4 is 12.", "12", True),
    ("So $m+n=29$.\n\nFinal Answer: The final answer is $29$. I hope it is correct.", "29", True),
    ("There are $4! = 24$ ways.\n\nI hope it is correct.", "24", True), ("Answer: 7, not 6", "7", True),
    ("Since $2^3 \\equiv 1 \\pmod 7$, the remainder is 2 when $2^{100}$ is divided by $7$.", "2", True),
    ("Since $2^3 \\equiv 1 \\pmod 7$, the remainder is 2 when $2^{100}$ is divided by $7$.", "7", False),
    ("There are $4! = 24$ ways.\n\nLet me know if you'd like the circular one too (that would be $3! = 6$).", "24", True),
    ("There are $4! = 24$ ways.\n\nLet me know if you'd like the circular one too (that would be $3! = 6$).", "6", False),
    ("答え：42", "42", True), ("The answer is probably 7.", "7", True),
])
def test_what_follows_a_stated_answer(response, gold, expected):
    """Text after the answer that is not one: a reason ('because ...', ', since ...'), 'I hope it is correct.', a
    closing offer holding '$3! = 6$' (a factorial's '!' ends no sentence), a passive 'is divided by' after a 'when'
    clause; a one-line reply that opens with yes or no and gives its reason after it (naming no other yes or no)."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    # a unit or counted noun in a script math is not written in, after the stated number
    ("Ответ: 95 минут", "95", True), ("Ответ: 27 000 долларов", "27000", True), ("Ответ: 90 долларов.", "90", True),
    ("Ответ: 95 минут", "96", False), ("5.8厘米", "5.8", True), ("40", "40厘米", True), ("2π", "2\\pi", True),
    # the letter x typed for the times sign of standard form
    ("4.2x10^1", "42", True), ("1 x 10**4", "10000", True), ("100x10^2", "10000", True), ("4.2x10^1", "4.2", False),
    # Unicode subscripts, a vector's combining arrow, 'square root' in Chinese, sympy's oo and ∪
    ("x₀ + 1", "x_0 + 1", True), ("x₀ + 1", "x_1 + 1", False), ("F⃗ = ma⃗", "F = ma", True), ("根号2", "sqrt(2)", True),
    ("根号3", "sqrt(2)", False), ("(-\\infty,2)\\cup(3,\\infty)", "(-oo,2) ∪ (3,oo)", True),
    ("(-\\infty,2)\\cup(4,\\infty)", "(-oo,2) ∪ (3,oo)", False),
    # a CAS's Choose(n, k); a matrix row break with its spacing; a repeating decimal written with dots
    ("\\mathrm{Choose}(5, 2)", "10", True), ("\\mathrm{Choose}(5, 2)", "20", False),
    ("\\boxed{\\begin{pmatrix} \\dfrac{1}{7} \\\\[8pt] \\dfrac{2}{7} \\end{pmatrix}}", "\\begin{pmatrix} 1/7 \\\\ 2/7 \\end{pmatrix}",
     True),
    ("0.333...", "1/3", True), ("0.333", "1/3", False), ("0.1666...", "1/6", True),
    # units with a prefix on molar, the Greek mu for micro, mmHg, a value in e-notation
    ("2.5 μF", "2.5 microfarads", True), ("2.5 μF", "2.5 millifarads", False), ("1 mM", "0.001 mol/L", True),
    ("1 μM", "1e-6 mol/L", True), ("1 nM", "1e-6 mol/L", False), ("1 mmHg", "0.133322 kPa", True),
    # one temperature on two scales: an offset, not a factor; 'K' alone is kelvin only beside a marked scale
    ("273.15 K", "0 °C", True), ("298 K", "25 °C", False), ("212 °F", "100 °C", True), ("25 °C", "25 °F", False),
    ("100^{\\circ}\\text{C}", "373.15 K", True), ("500 K", "500000", False),
])
def test_values_from_science_graders_and_other_scripts(response, gold, expected):
    """From the fourteenth round: a unit word in Cyrillic or CJK after the number ('95 минут' is 95; '2π' keeps its
    pi), 'x' as the times sign of standard form, subscript digits and the vector arrow, 根号 for a square root,
    oo for infinity, Choose(n, k), a row break's '[8pt]', '0.333...' as a repeating decimal, molar with a prefix,
    kelvin against Celsius or Fahrenheit."""
    assert verify(response, gold).correct is expected, verify(response, gold)


@pytest.mark.parametrize("response,gold,expected", [
    ("F = ma", "a = F/m", True), ("p=mv", "v=p/m", True), ("v = u + at", "v = at + u", True),
    ("E = mc²", "E = m c^2", True), ("E = ½mv² + mgh", "E = m(½v² + gh)", True), ("xy = 1", "y = 1/x", True),
    ("F = ma", "a = m/F", False), ("x^2 = x", "x = 1", False), ("y^2 = xy", "y = x", False),
    ("y = x^2", "x = \\sqrt{y}", False), ("x = 5 at t = 2", "5", False),
])
def test_equations_one_of_which_is_solved_for_a_variable(response, gold, expected):
    """Two equations are one when the unsolved one, solved for the variable the other is solved for, gives its
    right-hand side: they differ by a factor that only clears the solved form's denominators ('a = F/m' times m).
    A factor that may be zero where the other holds ('x^2 = x' is 'x = 1' times x) keeps them apart. An equation of
    one-letter names run together ('F = ma', 'v = u + at') is math, not a sentence with the words 'ma' and 'at'."""
    assert verify(response, gold).correct is expected, verify(response, gold)


def test_an_equation_solved_alike_check_gives_up_on_high_powers():
    """cancel() expands powers: '(x-a)^5999' against '(x-a)^6000' must not try (it would not finish)."""
    start = time.perf_counter()
    assert verify("y=(x-a)^5999", "y=(x-a)^6000").correct is False
    assert time.perf_counter() - start < 5.0


@pytest.mark.parametrize("response,gold,expected", [
    ("By inspection, \\[boxed{\\epsilon = 5}\\]", "5", True), ("By inspection, \\[boxed{\\epsilon = 5}\\]", "6", False),
    ("unboxed{5} and \\boxed{6}", "6", True),
    ("Step 9. So it is 11√2.\n\n        # Answer\n\n        11\\sqrt{2}", "11\\sqrt2", True),
    ("Step 9. So it is 11.\n\n        # Answer\n\n        12", "11", False),
    ("<think>2 + 2 = 4\n#### 4</think>", "4", True), ("<think>2 + 2 = 4\n#### 4</think>", "4</think>", False),
    ("\\boxed{1} ... \\boxed{2} ... \\boxed{3}", "3", True), ("\\boxed{1}, \\boxed{2}", "1, 2", True),
    ("I choose option B.", "B", True), ("I choose option B.", "C", False),
    ("Answer: The keys are in the kitchen, so B.", "B", True), ("Answer: The keys are in the kitchen, so B.", "A", False),
    ("96 - 57 = 39<|im_end|>", "39", True),
])
def test_answers_framed_by_slips_and_tags(response, gold, expected):
    """A '\\boxed' that lost its backslash (a few-shot prompt's typo, copied), an indented '# Answer' heading, an
    end-of-thinking tag right after '#### 4', boxes joined by an ellipsis (attempts, not parts of one answer), 'I
    choose option B', a sentence after 'Answer:' that ends 'so B.', a chat template's end token after the equation."""
    assert verify(response, gold).correct is expected, verify(response, gold)


def test_the_letter_product_pattern_stays_linear_on_runs_of_blanks():
    """The pattern that reads a gold as a product of single letters has one way to split each run of blanks: a gold
    that almost matches ('a    b    b ... !') fails at once instead of trying every split."""
    import time
    from rlvr_verify.verify import _LETTER_PRODUCT
    for text in ["a" + "    b" * 40 + "!", "a" + " *  b" * 40 + "!", "a" + " \\cdot  b" * 40 + "?"]:
        start = time.perf_counter()
        assert _LETTER_PRODUCT.fullmatch(text) is None
        assert time.perf_counter() - start < 1.0


def test_an_option_named_where_the_last_2000_characters_begin_is_no_pick():
    """The search for a named pick reads the reply's last 2,000 characters; where that window happens to begin at
    'D) might ...' (the middle of 'Table (D) might ...'), it is not a reply that opens with its option."""
    body = "D) might also satisfy it. " + "We check the values once more. " * 70
    body = body[:2000 - len("\n\n\\boxed{(A)}")] + "\n\n\\boxed{(A)}"
    response = "Compare Table (A) with Table (" + body
    for tail in ("", "\n", "\n\n"):
        assert verify(response + tail, "D").correct is False
        assert verify(response + tail, "A").correct is True


@pytest.mark.slow
def test_a_verdict_does_not_depend_on_line_endings_or_trailing_blanks():
    """Every dev-set case (other people's responses) keeps its verdict when its line breaks are written '\\r\\n' and
    when blank lines or spaces follow it: presentation, not content (a fixed-size window once made two trailing
    newlines change a verdict)."""
    from rlvr_verify.dev.devset import load_devset
    changed = []
    for c in load_devset():
        base = verify(c["response"], c["gold"]).correct
        for response in (c["response"].replace("\n", "\r\n"), c["response"] + "\n\n", c["response"] + "  "):
            if response != c["response"] and verify(response, c["gold"]).correct != base:
                changed.append((c["source_key"], c["gold"], response[-80:]))
    assert not changed, changed[:5]


def test_relation_sets_agree_with_sympys_solver_on_generated_formulas():
    """Random and/or formulas of linear relations in x, written with either side first and scaled by a random sign
    and factor, against sympy's own reading of the same formula built as objects (as_set): the same set; and that
    set with one point added or taken away is another."""
    import random
    import sympy as sp
    from rlvr_verify.solution_sets import same_set, solution_set

    x, rng = sp.Symbol("x"), random.Random(7)
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "≠": "≠"}
    sympy_op = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "=": sp.Eq, "≠": sp.Ne}

    def atom():
        op, bound = rng.choice(list(flip)), sp.Rational(rng.randint(-20, 20), rng.randint(1, 4))
        k = rng.choice([1, 2, 3, -1, -2])  # k*x op k*bound, with the order flipped when k < 0
        text_op = op if k > 0 else flip[op]
        left, right = f"{k}*x", f"{k * bound}"
        if rng.random() < 0.5:
            left, right, text_op = right, left, flip[text_op]
        return f"{left} {text_op} {right}", sympy_op[op](x, bound)

    checked = 0
    for _ in range(120):
        atoms = [atom() for _ in range(rng.randint(1, 4))]
        joins = [rng.choice(["and", "or"]) for _ in atoms[1:]]
        text, formula = f"({atoms[0][0]})", atoms[0][1]
        for (t, f), j in zip(atoms[1:], joins):
            text, formula = f"({text} {j} ({t}))", (sp.And if j == "and" else sp.Or)(formula, f)
        expected = formula.as_set() if formula not in (sp.true, sp.false) else None
        if expected is None or not any(op in text for op in "<>≠"):
            continue
        got = solution_set(text)
        assert got is not None and same_set(got, (x, expected)), (text, got, expected)
        point = sp.Rational(1, 997)  # a point the set holds or not: the set with it flipped is another set
        other = sp.Complement(expected, sp.FiniteSet(point)) if expected.contains(point) else sp.Union(
            expected, sp.FiniteSet(point))
        assert not same_set(got, (x, other)), (text, other)
        checked += 1
    assert checked >= 80
