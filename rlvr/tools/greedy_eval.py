"""Held-out accuracy during training: greedy decoding of the held-out prompts, verified against their golds."""
from __future__ import annotations

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
