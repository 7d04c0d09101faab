"""The learning-rate schedule over rollout steps. Kept by hand rather than transformers' get_scheduler: there the
first warm-up step runs at lr 0 (a step that changes nothing); here step s of the warm-up runs at (s + 1) / warmup."""
from __future__ import annotations

import math


def lr_lambda(warmup_steps: int, schedule: str, total_steps: int):
    """Linear warm-up over `warmup_steps` rollout steps, then constant, linear or cosine decay to 0."""
    if schedule not in ("constant", "linear", "cosine"):
        raise ValueError(f"optim.schedule={schedule!r}; choose constant, linear or cosine")

    def f(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        if schedule == "constant":
            return 1.0
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        if schedule == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return f
