"""Logits extrapolation: decode from z = z_A + alpha (z_B - z_A) with two models in lock-step (docs/ALGORITHMS.md s9).

Each model keeps its own KV cache; at every step both see the same token, so the pair behaves like one model whose
logits lie on the line through the two checkpoints. alpha = 1 is plain decoding with B, alpha = 0 with A.
"""
from __future__ import annotations

import torch

from rlvr.rollout.engine import Sample, generate_in_batches, teacher_forced_logprobs
from rlvr.rollout.hf_engine import sample_next


class LogitsExtrapolationEngine:
    """GenerationEngine over two HF causal LMs sharing one tokenizer (that of B)."""

    def __init__(self, model_a, model_b, alpha: float, tokenizer=None, device: str = "cpu", batch_size: int = 64):
        if tokenizer is None:
            raise ValueError("LogitsExtrapolationEngine needs the tokenizer (use from_paths to load it with B)")
        if model_a.config.vocab_size != model_b.config.vocab_size:
            raise ValueError(f"vocab sizes differ: A has {model_a.config.vocab_size}, B has "
                             f"{model_b.config.vocab_size}; both models need the same tokenizer")
        self.device = torch.device(device)
        self.model_a, self.model_b = model_a.to(self.device).eval(), model_b.to(self.device).eval()
        self.alpha = float(alpha)
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"
        self.batch_size = batch_size

    @classmethod
    def from_paths(cls, path_a: str, path_b: str, alpha: float, device: str = "cpu", dtype: str = "float32",
                   **kw) -> "LogitsExtrapolationEngine":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        load = lambda p: AutoModelForCausalLM.from_pretrained(p, dtype=getattr(torch, dtype))  # noqa: E731
        return cls(load(path_a), load(path_b), alpha, tokenizer=AutoTokenizer.from_pretrained(path_b), device=device,
                   **kw)

    def combine(self, logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
        return logits_a.float() + self.alpha * (logits_b.float() - logits_a.float())

    @torch.no_grad()
    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_tokens=64, seed=None):
        return generate_in_batches(lambda batch, gen: self._decode(batch, temperature, top_p, max_tokens, gen),
                                   prompts, n, self.batch_size, self.device, seed)

    def _decode(self, prompts, temperature, top_p, max_tokens, generator) -> list[Sample]:
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        prompt_ids, prompt_mask = enc["input_ids"], enc["attention_mask"]
        eos, pad = self.tokenizer.eos_token_id, self.tokenizer.pad_token_id
        if pad is None:
            pad = eos
        batch = prompt_ids.shape[0]
        mask = prompt_mask
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        step_ids, step_pos = prompt_ids, positions
        cache_a = cache_b = None
        tokens, logprobs = [[] for _ in range(batch)], [[] for _ in range(batch)]
        finished = torch.zeros(batch, dtype=torch.bool, device=self.device)
        for _ in range(max_tokens):
            out_a = self.model_a(input_ids=step_ids, attention_mask=mask, position_ids=step_pos,
                                 past_key_values=cache_a, use_cache=True)
            out_b = self.model_b(input_ids=step_ids, attention_mask=mask, position_ids=step_pos,
                                 past_key_values=cache_b, use_cache=True)
            cache_a, cache_b = out_a.past_key_values, out_b.past_key_values
            z = self.combine(out_a.logits[:, -1], out_b.logits[:, -1])
            nxt, logp = sample_next(z, temperature, top_p, generator)
            nxt = torch.where(finished, torch.full_like(nxt, pad), nxt)
            chosen_lp = logp.gather(-1, nxt[:, None]).squeeze(-1)
            for b in torch.nonzero(~finished).flatten().tolist():
                tokens[b].append(int(nxt[b]))
                logprobs[b].append(float(chosen_lp[b]))
            finished |= nxt == eos
            if bool(finished.all()):
                break
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            step_ids, step_pos = nxt[:, None], step_pos[:, -1:] + 1
        results = []
        for b in range(batch):
            stopped = bool(tokens[b]) and tokens[b][-1] == eos
            results.append(Sample(token_ids=tokens[b], text=self.tokenizer.decode(tokens[b], skip_special_tokens=True),
                                  logprobs=logprobs[b], finish_reason="stop" if stopped else "length",
                                  prompt_token_ids=prompt_ids[b][prompt_mask[b].bool()].tolist()))
        return results

    def score(self, sequences):
        """Teacher-forced log-probs of the extrapolated distribution at temperature 1."""
        return teacher_forced_logprobs(
            lambda x: self.combine(self.model_a(input_ids=x).logits, self.model_b(input_ids=x).logits),
            sequences, self.device)

    def update_weights(self, named_tensors):
        raise NotImplementedError("LogitsExtrapolationEngine is for evaluation; it has no single set of weights")
