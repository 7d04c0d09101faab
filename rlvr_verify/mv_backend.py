"""math-verify as a verifier backend, for use ONLY inside a pool worker (rlvr_verify/pool.py).

math-verify hands model text to sympy's LaTeX parser (which can build huge objects or hang), so it must never run
in the driver process: the pool worker sets IN_POOL_WORKER before the first item, and every call checks it."""
from rlvr_verify.verify import Verdict

IN_POOL_WORKER = False


def _require_pool_worker() -> None:
    if not IN_POOL_WORKER:
        raise RuntimeError("backend='math_verify' runs only inside rlvr_verify.pool.VerifierPool workers "
                           "(reward.verifier.num_workers >= 1); it parses model text with sympy and must be killable")


def math_verify_missing(needed_by: str) -> str | None:
    """One line saying why math-verify cannot run here (not installed in this interpreter), else None: checked
    before work starts, since inside the pool every item would only come back as an error."""
    import importlib.util

    if importlib.util.find_spec("math_verify") is not None:
        return None
    return (f"{needed_by} needs math-verify, which this interpreter ({__import__('sys').executable}) does not have: "
            f"pip install 'math-verify[antlr4_9_3]>=0.7' (in the project's dev extra), or use the project's .venv")


def gold_text(gold: str) -> str:
    """math-verify reads answers from math mode; a bare gold such as '\\frac{1}{3}' is put into $...$."""
    return gold if ("$" in gold or "\\boxed" in gold or "\\(" in gold or "\\[" in gold) else f"${gold}$"


def verify_math_verify(response: str, gold: str) -> Verdict:
    """One verdict from math-verify's parse + verify (its own defaults)."""
    _require_pool_worker()
    from math_verify import parse, verify as mv_verify
    gold_parsed = parse(gold_text(gold))
    pred = parse(response or "")
    extracted = str(pred[1]) if len(pred) > 1 else (str(pred[0]) if pred else None)
    if not pred:
        return Verdict(False, 0.0, None, "no_answer")
    if not gold_parsed:
        return Verdict(False, 0.0, extracted, "gold_parse_error")
    ok = bool(mv_verify(gold_parsed, pred))
    return Verdict(ok, float(ok), extracted, "equal" if ok else "not_equal")


# Where ours gives no judgement of its own (it found no answer, or could not read one side): only there does the
# cascade ask math-verify. A "not_equal" of ours is a judgement: math-verify's "equal" overruled it wrongly more often
# than rightly on the development set (docs/verifier_devset.md), and asking it everywhere cost its speed.
UNSURE = {"no_answer", "parse_error", "gold_parse_error", "too_large"}


def verify_backend(response: str, gold: str, backend: str, options: dict) -> Verdict:
    """rlvr (ours), math_verify, or cascade (ours; where ours is unsure, UNSURE, math-verify may say equal)."""
    from rlvr_verify.verify import verify
    if backend == "rlvr":
        return verify(response, gold, **options)
    if backend == "math_verify":
        return verify_math_verify(response, gold)
    if backend == "cascade":
        ours = verify(response, gold, **options)
        if ours.correct or ours.reason not in UNSURE or options.get("mode", "exact") != "exact":
            return ours
        theirs = verify_math_verify(response, gold)
        return theirs if theirs.correct else ours
    raise ValueError(f"backend={backend!r}: choose rlvr, math_verify or cascade (reward.verifier.backend)")
