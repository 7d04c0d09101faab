"""The engine interface every rollout worker and the evaluator talk to.

An engine samples `n` responses per prompt and reports, for each, the token ids, the log-probability of each sampled
token under the distribution it was sampled from (after temperature and top-p), and why it stopped. It also scores
fixed token sequences (teacher forcing) so the loop can prove that a weight sync reached the engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

import torch


@dataclass
class Sample:
    token_ids: list[int]
    text: str
    logprobs: list[float]
    finish_reason: str  # "stop" (EOS) | "length" (hit max_tokens)
    prompt_token_ids: list[int] = field(default_factory=list)

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


class GenerationEngine(Protocol):
    tokenizer: object

    def generate(self, prompts: list[str], *, n: int = 1, temperature: float = 1.0, top_p: float = 1.0,
                 max_tokens: int = 64, seed: int | None = None) -> list[list[Sample]]:
        """[prompt][sample]. temperature 0 means greedy."""

    def score(self, sequences: list[list[int]]) -> list[list[float]]:
        """Teacher-forced log-probs at temperature 1: entry t is log p(seq[t+1] | seq[:t+1])."""

    def update_weights(self, named_tensors: Iterable[tuple[str, torch.Tensor]]) -> None:
        """Load new weights in place (every tensor of the HF state dict, lm_head.weight included)."""


def teacher_forced_logprobs(logits_of, sequences: list[list[int]], device) -> list[list[float]]:
    """Entry t of each result is log p(seq[t+1] | seq[:t+1]) under `logits_of(input_ids [1, L]) -> [1, L, V]`.
    The one scoring routine behind every engine's `score` and the learner's (the weight-sync check compares them)."""
    out = []
    with torch.no_grad():
        for seq in sequences:
            x = torch.tensor([seq], device=device)
            logp = torch.log_softmax(logits_of(x)[0, :-1].float(), -1)
            out.append(logp.gather(-1, x[0, 1:, None]).squeeze(-1).tolist())
    return out



def generate_in_batches(decode_batch, prompts: list[str], n: int, batch_size: int, device, seed: int | None
                        ) -> list[list[Sample]]:
    """n samples per prompt through `decode_batch(prompts, generator)` in batches of batch_size, with one seeded
    generator for the whole call (so a call's samples do not depend on how it is batched across calls)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(0 if seed is None else seed)
    flat = [p for p in prompts for _ in range(n)]
    samples: list[Sample] = []
    for start in range(0, len(flat), batch_size):
        samples += decode_batch(flat[start:start + batch_size], generator)
    return [samples[i * n:(i + 1) * n] for i in range(len(prompts))]
