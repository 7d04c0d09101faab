"""transformers-based engine: the fallback where vLLM is absent (the GPU benchmark machine) and the reference
implementation the vLLM engine is checked against.

Two decoding loops behind one interface: `dynamic` (a growing KV cache, the plain reference) and `static` (a static
KV cache with fixed shapes that can be compiled into CUDA graphs; rlvr.rollout.static_decode). `auto` takes static on
CUDA and dynamic elsewhere."""
from __future__ import annotations

from typing import Iterable

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlvr.rollout.engine import Sample, generate_in_batches, teacher_forced_logprobs
from rlvr.rollout.static_decode import StaticCacheDecoder, gumbel_sample, record_token

DECODES = ("auto", "static", "dynamic")


class HFEngine:
    def __init__(self, model_path: str, device: str = "cpu", dtype: str = "float32", batch_size: int = 256,
                 decode: str = "auto", compile: bool | None = None, **_):
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, dtype)).to(self.device)
        self.model.eval()
        self.batch_size = batch_size
        self.static = None
        self._set_decode(decode, compile)

    def _set_decode(self, decode: str, compile: bool | None) -> None:
        if decode not in DECODES:
            raise ValueError(f"rollout.hf_decode={decode!r}: choose one of {list(DECODES)}")
        cuda = self.device.type == "cuda"
        if decode == "static" or (decode == "auto" and cuda):
            self.static = StaticCacheDecoder(self.model, self.tokenizer.pad_token_id, self.tokenizer.eos_token_id,
                                             compile=cuda if compile is None else compile)

    @classmethod
    def from_model(cls, model, tokenizer, device: str = "cpu", batch_size: int = 256) -> "HFEngine":
        """Wrap a live in-memory model (no reload from disk): the warm start evaluates the model it is training."""
        engine = cls.__new__(cls)
        engine.device, engine.model, engine.tokenizer, engine.batch_size = (torch.device(device), model, tokenizer,
                                                                            batch_size)
        engine.tokenizer.padding_side = "left"
        engine.static = None  # the plain loop: the warm start's model changes shape-free between calls
        return engine

    @torch.no_grad()
    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_tokens=64, seed=None):
        return generate_in_batches(lambda batch, gen: self._generate_batch(batch, temperature, top_p, max_tokens, gen),
                                   prompts, n, self.batch_size, self.device, seed)

    def _generate_batch(self, prompts, temperature, top_p, max_tokens, generator):
        """One batch through the static or the dynamic loop; log-probs are those of the distribution actually
        sampled from."""
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.device)
        ids, attn = enc["input_ids"], enc["attention_mask"]
        eos = self.tokenizer.eos_token_id
        if self.static is not None:
            def sample(logits):
                return sample_next(logits, temperature, top_p, generator, gumbel=True)
            out_ids, out_lp, lengths = self.static.decode(ids, attn, sample, max_tokens)
        else:
            out_ids, out_lp, lengths = self._decode_dynamic(ids, attn, temperature, top_p, max_tokens, generator)
        results = []
        for b in range(ids.shape[0]):
            L = int(lengths[b])
            toks = out_ids[b, :L].tolist()
            stopped = len(toks) > 0 and toks[-1] == eos
            prompt_ids = ids[b][attn[b].bool()].tolist()
            results.append(Sample(token_ids=toks, text=self.tokenizer.decode(toks, skip_special_tokens=True),
                                  logprobs=out_lp[b, :L].tolist(), finish_reason="stop" if stopped else "length",
                                  prompt_token_ids=prompt_ids))
        return results

    def _decode_dynamic(self, ids, attn, temperature, top_p, max_tokens, generator):
        """The plain loop: a growing KV cache and mask, a host check after every token."""
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
            done = record_token(t, tok, logp, done, out_ids, out_lp, lengths, pad, eos)
            tok = out_ids[:, t]
            if done.all():
                break
            attn = torch.cat([attn, torch.ones_like(attn[:, :1])], dim=1)  # rows already done are ignored
            step_input = tok[:, None]
            step_pos = step_pos[:, -1:] + 1
        return out_ids, out_lp, lengths

    def score(self, sequences):
        return teacher_forced_logprobs(lambda x: self.model(input_ids=x).logits, sequences, self.device)

    def update_weights(self, named_tensors: Iterable[tuple[str, torch.Tensor]]) -> None:
        state = dict(named_tensors)
        self.model.load_state_dict(state, strict=False)


def sample_next(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator,
                gumbel: bool = False):
    """One decoding step: (tokens [B], log-probs [B, V] of the distribution sampled from). temperature 0 = greedy.
    gumbel: draw by Gumbel-max instead of multinomial (the same distribution, no host sync; the static loop's)."""
    logits = logits.float()
    if temperature == 0:
        logp = torch.log_softmax(logits, -1)
        return logp.argmax(-1), logp
    logp = torch.log_softmax(logits / temperature, -1)
    if top_p < 1.0:
        logp = top_p_filter(logp, top_p)
    if gumbel:
        return gumbel_sample(logp, generator), logp
    return torch.multinomial(logp.exp(), 1, generator=generator).squeeze(-1), logp


def top_p_filter(logp: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability reaches top_p (the crossing token included), renormalise."""
    sorted_lp, order = logp.sort(-1, descending=True)
    cum = sorted_lp.exp().cumsum(-1)
    remove_sorted = (cum - sorted_lp.exp()) >= top_p  # mass before this token already reaches top_p
    remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    filtered = logp.masked_fill(remove, float("-inf"))
    return torch.log_softmax(filtered, -1)
