"""RolloutWorker: a Ray actor that owns one generation engine (vLLM or HF) and its copy of the weights."""
from __future__ import annotations

import os


class RolloutWorker:
    def __init__(self, engine: str, model_path: str, worker_index: int = 0, num_threads: int | None = None,
                 **engine_kwargs):
        # In-process vLLM: the actor owns its engine and reloads weights with a direct call (DESIGN.md).
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        import torch

        if num_threads:
            torch.set_num_threads(num_threads)
        from rlvr.engines import build_engine

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
