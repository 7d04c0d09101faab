"""Decoding with a static KV cache, for the HF engine on GPUs without vLLM.

The plain loop (HFEngine's dynamic path) grows its cache and attention mask every token and asks the GPU "is every
row done?" after each one, so the GPU idles between many small launches (measured: ~1% of the bandwidth
bound). Here every decode step has the same tensor shapes: the cache and the mask are allocated once for
prompt + max_tokens, prompts are left-padded to a multiple of `length_bucket`, so the step can be compiled and, on
CUDA, replayed as a CUDA graph (torch.compile mode="reduce-overhead"). The host looks at the GPU only every
`check_every` tokens. Sampling is Gumbel-max on noise from the engine's seeded generator: argmax(log p + g) with
g ~ Gumbel(0, 1) is exactly a draw from p, needs no host sync, and leaves the reported log-probs those of the
distribution sampled from (after temperature and top-p), as the engine interface requires.
"""
from __future__ import annotations

import torch
from transformers import StaticCache


def gumbel_sample(logp: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One draw per row from softmax(logp) ([B, V] log-probs, -inf where filtered out)."""
    u = torch.rand(logp.shape, generator=generator, device=logp.device, dtype=torch.float32)
    gumbel = -torch.log(-torch.log(u.clamp(min=1e-20, max=1.0 - 1e-7)))
    return (logp + gumbel).argmax(-1)


def record_token(t: int, tok: torch.Tensor, logp: torch.Tensor, done: torch.Tensor, out_ids: torch.Tensor,
                 out_lp: torch.Tensor, lengths: torch.Tensor, pad_id: int, eos_id: int) -> torch.Tensor:
    """Write step t's tokens and their log-probs (pad and 0 for rows already done), set the length of rows that stop
    here; returns the updated done mask. Both HF decoding loops keep their books with it, on the device."""
    tok = torch.where(done, torch.full_like(tok, pad_id), tok)
    out_ids[:, t] = tok
    out_lp[:, t] = torch.where(done, 0.0, logp.gather(-1, tok[:, None]).squeeze(-1))
    newly = (~done) & (tok == eos_id)
    lengths.copy_(torch.where(newly, t + 1, lengths))
    return done | newly


class StaticCacheDecoder:
    def __init__(self, model, pad_id: int, eos_id: int, compile: bool = False, check_every: int = 16,
                 length_bucket: int = 64):
        self.model = model
        self.pad_id, self.eos_id = pad_id, eos_id
        self.check_every = max(1, check_every)
        self.length_bucket = max(1, length_bucket)
        self._cache: StaticCache | None = None
        self._cache_shape: tuple[int, int] | None = None
        step = self._decode_step
        if compile:
            mode = "reduce-overhead" if next(model.parameters()).is_cuda else None
            step = torch.compile(step, mode=mode, dynamic=False)
        self._step = step

    def _decode_step(self, tokens, positions, cache_position, mask, cache):
        return self.model(input_ids=tokens, position_ids=positions, attention_mask=mask, past_key_values=cache,
                          cache_position=cache_position, use_cache=True).logits[:, -1]

    def _cache_for(self, batch: int, length: int) -> StaticCache:
        """One cache per (batch, length) shape, reset and reused across calls (a compiled step keeps its address)."""
        if self._cache_shape != (batch, length):
            self._cache = StaticCache(config=self.model.config, max_cache_len=length)
            self._cache_shape = (batch, length)
        else:
            self._cache.reset()
        return self._cache

    def release(self) -> None:
        """Drop the KV cache (the engine sleeps); the next decode allocates it again."""
        self._cache, self._cache_shape = None, None

    def cache_bytes(self) -> int:
        if self._cache is None:
            return 0
        return sum(t.numel() * t.element_size() for layer in self._cache.layers
                   for t in (getattr(layer, "keys", None), getattr(layer, "values", None)) if t is not None)

    @torch.no_grad()
    def decode(self, ids: torch.Tensor, attn: torch.Tensor, sample, max_tokens: int
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Left-padded prompts [B, P] -> (tokens [B, max_tokens] (pad after EOS), their log-probs, lengths [B]).
        `sample(logits [B, V]) -> (tokens [B], log-probs [B, V])` picks each next token."""
        B, P = ids.shape
        device = ids.device
        width = -(-P // self.length_bucket) * self.length_bucket
        if width > P:  # more left padding: every prompt length in a bucket shares one compiled shape
            ids = torch.cat([ids.new_full((B, width - P), self.pad_id), ids], dim=1)
            attn = torch.cat([attn.new_zeros(B, width - P), attn], dim=1)
        total = width + max_tokens
        cache = self._cache_for(B, total)
        mask = attn.new_zeros(B, total)
        mask[:, :width] = attn
        positions = (attn.cumsum(-1) - 1).clamp(min=0)
        logits = self.model(input_ids=ids, position_ids=positions, attention_mask=mask, past_key_values=cache,
                            cache_position=torch.arange(width, device=device), use_cache=True).logits[:, -1]
        next_position = positions[:, -1:] + 1
        # Cache slots as device views: building a CUDA tensor from a Python int each step would copy from pageable
        # host memory, which waits for the stream, i.e. one host sync per token.
        slots = torch.arange(width, total, device=device)
        out_ids = torch.full((B, max_tokens), self.pad_id, dtype=torch.long, device=device)
        out_lp = torch.zeros(B, max_tokens, device=device)
        lengths = torch.full((B,), max_tokens, dtype=torch.long, device=device)
        done = torch.zeros(B, dtype=torch.bool, device=device)
        for t in range(max_tokens):
            tok, logp = sample(logits)
            done = record_token(t, tok, logp, done, out_ids, out_lp, lengths, self.pad_id, self.eos_id)
            tok = out_ids[:, t]
            if t + 1 == max_tokens or ((t + 1) % self.check_every == 0 and bool(done.all())):
                break
            mask[:, width + t] = 1  # rows already done attend to their pads too; their outputs are discarded
            logits = self._step(tok[:, None], next_position, slots[t:t + 1], mask, cache)
            next_position = next_position + 1
        return out_ids, out_lp, lengths
