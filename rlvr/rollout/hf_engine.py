"""transformers-based engine: the fallback where vLLM is absent (the GPU benchmark machine) and the reference
implementation the vLLM engine is checked against."""
from __future__ import annotations

from typing import Iterable

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlvr.rollout.engine import Sample, generate_in_batches, teacher_forced_logprobs


class HFEngine:
    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "float32", batch_size: int = 256, **_):
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, dtype)).to(self.device)
        self.model.eval()
        self.batch_size = batch_size

    @classmethod
    def from_model(cls, model, tokenizer, device: str = "cpu", batch_size: int = 256) -> "HFEngine":
        """Wrap a live in-memory model (no reload from disk): the warm start evaluates the model it is training."""
        engine = cls.__new__(cls)
        engine.device, engine.model, engine.tokenizer, engine.batch_size = (torch.device(device), model, tokenizer,
                                                                            batch_size)
        engine.tokenizer.padding_side = "left"
        return engine

    @torch.no_grad()
    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_tokens=64, seed=None):
        return generate_in_batches(lambda batch, gen: self._generate_batch(batch, temperature, top_p, max_tokens, gen),
                                   prompts, n, self.batch_size, self.device, seed)

    def _generate_batch(self, prompts, temperature, top_p, max_tokens, generator):
        """Plain sampling loop with a KV cache; log-probs are those of the distribution actually sampled from."""
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        ids, attn = enc["input_ids"], enc["attention_mask"]
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id
        B = ids.shape[0]
        out_ids = torch.full((B, max_tokens), pad, dtype=torch.long, device=self.device)
        out_lp = torch.zeros(B, max_tokens, device=self.device)
        done = torch.zeros(B, dtype=torch.bool, device=self.device)
        lengths = torch.full((B,), max_tokens, dtype=torch.long, device=self.device)
        position_ids = (attn.cumsum(-1) - 1).clamp(min=0)
        past, step_input, step_pos = None, ids, position_ids
        for t in range(max_tokens):
            out = self.model(input_ids=step_input, attention_mask=attn, position_ids=step_pos,
                             past_key_values=past, use_cache=True)
            past = out.past_key_values
            tok, logp = sample_next(out.logits[:, -1, :], temperature, top_p, generator)
            tok = torch.where(done, torch.full_like(tok, pad), tok)
            out_ids[:, t] = tok
            out_lp[:, t] = torch.where(done, torch.zeros_like(tok, dtype=logp.dtype),
                                       logp.gather(-1, tok[:, None]).squeeze(-1))
            newly = (~done) & (tok == eos)
            lengths = torch.where(newly, torch.full_like(lengths, t + 1), lengths)
            done |= newly
            if done.all():
                break
            attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)  # rows already done are ignored
            step_input = tok[:, None]
            step_pos = step_pos[:, -1:] + 1
        results = []
        for b in range(B):
            L = int(lengths[b])
            toks = out_ids[b, :L].tolist()
            stopped = len(toks) > 0 and toks[-1] == eos
            prompt_ids = ids[b][enc["attention_mask"][b].bool()].tolist()
            results.append(Sample(token_ids=toks, text=self.tokenizer.decode(toks, skip_special_tokens=True),
                                  logprobs=out_lp[b, :L].tolist(), finish_reason="stop" if stopped else "length",
                                  prompt_token_ids=prompt_ids))
        return results

    def score(self, sequences):
        return teacher_forced_logprobs(lambda x: self.model(input_ids=x).logits, sequences, self.device)

    def update_weights(self, named_tensors: Iterable[tuple[str, torch.Tensor]]) -> None:
        state = dict(named_tensors)
        self.model.load_state_dict(state, strict=False)


def sample_next(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator):
    """One decoding step: (tokens [B], log-probs [B, V] of the distribution sampled from). temperature 0 = greedy."""
    logits = logits.float()
    if temperature == 0:
        logp = torch.log_softmax(logits, -1)
        return logp.argmax(-1), logp
    logp = torch.log_softmax(logits / temperature, -1)
    if top_p < 1.0:
        logp = top_p_filter(logp, top_p)
    return torch.multinomial(logp.exp(), 1, generator=generator).squeeze(-1), logp


def top_p_filter(logp: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability reaches top_p (the crossing token included), renormalise."""
    sorted_lp, order = logp.sort(-1, descending=True)
    cum = sorted_lp.exp().cumsum(-1)
    remove_sorted = (cum - sorted_lp.exp()) >= top_p  # mass before this token already reaches top_p
    remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    filtered = logp.masked_fill(remove, float("-inf"))
    return torch.log_softmax(filtered, -1)
