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


def paired_sign_test(before: str, after: str) -> dict:
    """Did `after` get more of the same problems right than `before`? Both are 0/1 strings, one character per
    held-out problem in the same order (Trainer.heldout_correct). Only the problems that changed carry evidence:
    `gained` went 0 -> 1, `lost` went 1 -> 0. Under "no change in skill" each change is a fair coin, so the exact
    one-sided p-value is P(X >= gained) for X ~ Binomial(gained + lost, 1/2) (McNemar's exact test). A learning claim
    stated this way does not depend on where the start happened to land, only on the evidence of the changes."""
    if len(before) != len(after):
        raise ValueError(f"compare evaluations of the same problems: {len(before)} vs {len(after)} verdicts")
    gained = sum(b == "0" and a == "1" for b, a in zip(before, after))
    lost = sum(b == "1" and a == "0" for b, a in zip(before, after))
    n = gained + lost
    p = sum(math.comb(n, k) for k in range(gained, n + 1)) / 2 ** n if n else 1.0
    return {"gained": gained, "lost": lost, "net": gained - lost, "p_value": p}
