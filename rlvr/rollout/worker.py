"""RolloutWorker: a Ray actor that owns one generation engine (vLLM or HF), its copy of the weights, and the
policy_version of those weights (how many updates the learner had made when it sent them), which it stamps on every
rollout."""
from __future__ import annotations

from rlvr.infra.env import apply_engine_env
from rlvr.weight_sync import ReceivesWeights


class RolloutWorker(ReceivesWeights):
    def __init__(self, engine: str, model_path: str, worker_index: int = 0, num_threads: int | None = None,
                 **engine_kwargs):
        # In-process vLLM: the actor owns its engine and reloads weights with a direct call (docs/DESIGN.md).
        apply_engine_env()
        import torch

        if num_threads:
            torch.set_num_threads(num_threads)
        from rlvr.rollout import build_engine

        self.worker_index = worker_index
        self.policy_version = 0
        self.engine = build_engine(engine, model_path, **engine_kwargs)

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed) -> dict:
        """{"groups": [prompt][sample] Samples, "policy_version": the version of the weights that sampled them}."""
        groups = self.engine.generate(prompts, n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                                      seed=seed)
        return {"groups": groups, "policy_version": self.policy_version}

    def load_weights(self, named_tensors, version: int) -> None:
        """Load weights the learner sent (through any weight_sync transport) in place, as `version`."""
        self.engine.update_weights(named_tensors)
        self.policy_version = version

    def sleep(self, level: int) -> int:
        """Release the engine's device memory while the learner trains (rollout.sleep_level); bytes released."""
        return self.engine.sleep(level)

    def wake_up(self) -> None:
        self.engine.wake_up()

    def score(self, sequences):
        return self.engine.score(sequences)

    def ping(self) -> int:
        return self.worker_index
