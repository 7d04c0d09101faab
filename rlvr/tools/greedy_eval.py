"""Held-out accuracy during training: greedy decoding of the held-out prompts, verified against their golds."""
from __future__ import annotations

import math

from rlvr.data.prompts import PromptItem


def greedy_accuracy(model, tokenizer, items: list[PromptItem], max_tokens: int = 24, device: str = "cpu",
                    verify_options: dict | None = None) -> float:
    """Greedy pass@1 of an in-memory HF model (used where no engine is running: the warm start)."""
    from rlvr.rollout.hf_engine import HFEngine
    from rlvr_verify import verify_batch

    engine = HFEngine.from_model(model, tokenizer, device)
    was_training = model.training
    model.eval()
    try:
        outs = engine.generate([it.prompt for it in items], n=1, temperature=0, max_tokens=max_tokens)
    finally:
        model.train(was_training)
    verdicts = verify_batch([o[0].text for o in outs], [it.gold for it in items], **(verify_options or {}))
    return sum(v.correct for v in verdicts) / max(1, len(items))


def paired_sign_test(before, after) -> dict:
    """Did `after` get more of the same problems right than `before`? Each is one score per held-out problem, in
    the same order: a 0/1 string (Trainer.heldout_correct, greedy) or a list of counts of k samples right
    (Trainer.heldout_sampled). Only the problems whose score changed carry evidence: `gained` went up, `lost` went
    down. Under "no change in skill" each change is a fair coin, so the exact one-sided p-value is P(X >= gained)
    for X ~ Binomial(gained + lost, 1/2) (the sign test; McNemar's exact test for 0/1 scores). A learning claim
    stated this way does not depend on where the start happened to land, only on the evidence of the changes."""
    if len(before) != len(after):
        raise ValueError(f"compare evaluations of the same problems: {len(before)} vs {len(after)} scores")
    pairs = [(int(b), int(a)) for b, a in zip(before, after)]
    gained = sum(a > b for b, a in pairs)
    lost = sum(a < b for b, a in pairs)
    n = gained + lost
    p = sum(math.comb(n, k) for k in range(gained, n + 1)) / 2 ** n if n else 1.0
    return {"gained": gained, "lost": lost, "net": gained - lost, "p_value": p}
