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
        self.sleep_level = 0          # 0 awake; 1/2 asleep (see sleep)
        self.needs_weights = False    # woke from level 2: the weights are uninitialised until the next update

    def sleep(self, level: int = 1) -> int:
        """Release this engine's device memory while the learner works on the same GPU (rollout.sleep_level);
        returns the bytes released. The KV cache is dropped at both levels. Level 1 moves the weights to host
        memory, and wake_up brings them back as they were. Level 2 drops them (as vLLM's level 2): wake_up
        reallocates them and the next weight sync fills them, which the loop always does after waking."""
        if level not in (1, 2):
            raise ValueError(f"rollout.sleep_level={level}: use 1 (weights to host memory) or 2 (weights dropped)")
        before = self.device_bytes()
        if self.static is not None:
            self.static.release()
        self._shapes = {name: p_.shape for name, p_ in self.model.named_parameters()}
        for param in self.model.parameters():  # in place, so tied weights stay one Parameter
            param.data = (param.data.to("cpu") if level == 1
                          else torch.empty((0,) * param.dim(), dtype=param.dtype, device=self.device))
        self.sleep_level = level
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return before - self.device_bytes()

    def wake_up(self) -> None:
        if self.sleep_level == 0:
            return
        for name, param in self.model.named_parameters():
            param.data = (param.data.to(self.device) if self.sleep_level == 1
                          else torch.empty(self._shapes[name], dtype=param.dtype, device=self.device))
        self.needs_weights = self.sleep_level == 2
        self.sleep_level = 0

    def device_bytes(self) -> int:
        """Bytes of weights and buffers on the engine's device, plus the static KV cache."""
        tensors = {t.data_ptr(): t for t in (*self.model.parameters(), *self.model.buffers())
                   if t.device == self.device}
        cache = self.static.cache_bytes() if self.static is not None else 0
        return sum(t.numel() * t.element_size() for t in tensors.values()) + cache

    def _check_awake(self) -> None:
        if self.sleep_level:
            raise RuntimeError(f"the HF engine is asleep (level {self.sleep_level}): call wake_up() before using it")
        if self.needs_weights:
            raise RuntimeError("the HF engine woke from a level-2 sleep, which dropped its weights: push weights "
                               "(update_weights with the whole state dict) before generating or scoring")

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
        engine.sleep_level, engine.needs_weights = 0, False
        return engine

    @torch.no_grad()
    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_tokens=64, seed=None):
        self._check_awake()
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
        self._check_awake()
        return teacher_forced_logprobs(lambda x: self.model(input_ids=x).logits, sequences, self.device)

    def update_weights(self, named_tensors: Iterable[tuple[str, torch.Tensor]]) -> None:
        if self.sleep_level:
            raise RuntimeError("the HF engine is asleep: call wake_up() before loading weights")
        state = dict(named_tensors)
        missing = self.model.load_state_dict(state, strict=False).missing_keys
        if self.needs_weights and missing:
            raise RuntimeError(f"after a level-2 sleep every weight must be sent again; missing {missing[:5]}")
        self.needs_weights = False


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
