"""RolloutWorker: a Ray actor that owns one generation engine (vLLM or HF) and its copy of the weights."""
from __future__ import annotations

from rlvr.infra.env import apply_engine_env


class RolloutWorker:
    def __init__(self, engine: str, model_path: str, worker_index: int = 0, num_threads: int | None = None,
                 **engine_kwargs):
        # In-process vLLM: the actor owns its engine and reloads weights with a direct call (docs/DESIGN.md).
        apply_engine_env()
        import torch

        if num_threads:
            torch.set_num_threads(num_threads)
        from rlvr.rollout import build_engine

        self.worker_index = worker_index
        self.engine = build_engine(engine, model_path, **engine_kwargs)

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        return self.engine.generate(prompts, n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                                    seed=seed)

    def update_weights(self, state: dict) -> None:
        self.engine.update_weights(state.items())

    def score(self, sequences):
        return self.engine.score(sequences)

    def ping(self) -> int:
        return self.worker_index
