"""Log-probs and entropy of response tokens from the final hidden states and the lm_head weight, a chunk of tokens at
a time, so the fp32 logits of a whole micro-batch ([tokens, V], 151,936 x 4 bytes per token for Qwen2.5) never exist
at once: peak memory for this part is one chunk's [chunk, V], not [B*T, V].

With gradients on, each chunk runs under activation checkpointing: its logits are freed after the forward and
recomputed in the backward (one extra [chunk, H] x [H, V] matmul per chunk, ~2 % of a 1.5B model's FLOPs), which is
what keeps the backward as lean as the forward. Only real response tokens are scored (padding is dropped first).

`extras` are further position-wise functions of the chunk's logits (e.g. SIREN's top-p entropy, ASFT's full-vocab
KL against a reference chunk) computed in the same loop with gradients, so objectives that need full logits can be
moved onto this path without ever seeing [B, T, V].
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

# fn(logits [n, V] fp32 at the training temperature, ref_logits [n, V] or None) -> [n]
PositionFn = Callable[[Tensor, Tensor | None], Tensor]


def chunk_logits(hidden: Tensor, weight: Tensor, bias: Tensor | None, temperature: float) -> Tensor:
    """fp32 logits / temperature of a [n, H] chunk (the matmul in the compute dtype, everything after in fp32)."""
    z = hidden @ weight.t()
    if bias is not None:
        z = z + bias
    return z.float() / temperature


def _chunk_stats(hidden: Tensor, weight: Tensor, bias: Tensor | None, tokens: Tensor, ref_hidden: Tensor | None,
                 ref_weight: Tensor | None, temperature: float, want_entropy: bool,
                 extras: dict[str, PositionFn], entropy_grad: bool = True) -> dict[str, Tensor]:
    z = chunk_logits(hidden, weight, bias, temperature)
    lse = torch.logsumexp(z, dim=-1)
    out = {"logprobs": z.gather(-1, tokens[:, None]).squeeze(-1) - lse}
    if want_entropy:
        # H = -sum p log p = lse - sum p z (no second [n, V] log-softmax tensor). Without entropy_grad, outside
        # autograd: under the chunk's checkpoint, the saved tensors of a branch whose backward never runs (softmax,
        # p * z) are recomputed with the rest and then held until the graph is freed, [chunk, V] fp32 copies per
        # chunk that add up over all chunks (at Qwen2.5's vocabulary: 1.8 GiB held after the backward of a
        # 2,000-token response).
        with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
            out["entropy"] = lse - (torch.softmax(z, dim=-1) * z).sum(-1)
    if extras:
        ref = None if ref_hidden is None else chunk_logits(ref_hidden, ref_weight, None, temperature).detach()
        for name, fn in extras.items():
            out[name] = fn(z, ref)
    return out


def token_stats(hidden: Tensor, weight: Tensor, tokens: Tensor, temperature: float = 1.0, chunk_tokens: int = 1024,
                want_entropy: bool = False, bias: Tensor | None = None, extras: dict[str, PositionFn] | None = None,
                ref_hidden: Tensor | None = None, ref_weight: Tensor | None = None,
                entropy_grad: bool = True) -> dict[str, Tensor]:
    """Per-token log p(token) (and entropy, and each extra) for N tokens: hidden [N, H], tokens [N] -> [N] each.

    Equal to log_softmax(hidden @ weight.T / temperature)[token] on the full matrix; the work is split into chunks
    of `chunk_tokens` rows, checkpointed when gradients are needed. entropy_grad=False: the entropy is a metric,
    off the graph (a backward that never reaches it would otherwise keep every chunk's recomputed logits alive)."""
    extras = extras or {}
    needs_grad = torch.is_grad_enabled() and (hidden.requires_grad or weight.requires_grad)
    parts: list[dict[str, Tensor]] = []
    for start in range(0, hidden.shape[0], max(1, chunk_tokens)):
        rows = slice(start, start + chunk_tokens)
        args = (hidden[rows], weight, bias, tokens[rows], None if ref_hidden is None else ref_hidden[rows],
                ref_weight, temperature, want_entropy, extras, entropy_grad)
        parts.append(checkpoint(_chunk_stats, *args, use_reentrant=False) if needs_grad else _chunk_stats(*args))
    if not parts:
        empty = hidden.new_zeros(0, dtype=torch.float32)
        return {k: empty for k in ("logprobs", *(["entropy"] if want_entropy else []), *extras)}
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def response_hidden(hidden: Tensor, positions: Tensor, mask: Tensor) -> Tensor:
    """[B, L, H] hidden states -> [N, H] at the positions that predict each real response token (row-major order)."""
    rows, cols = mask.nonzero(as_tuple=True)
    return hidden[rows, positions[rows, cols]]


def scatter_tokens(values: Tensor, mask: Tensor) -> Tensor:
    """[N] per-token values (row-major over mask) -> [B, T], 0 at padding."""
    out = values.new_zeros(mask.shape)
    out[mask > 0] = values
    return out


class ResponseScorer(nn.Module):
    """A causal LM as the learner uses it: backbone -> hidden states at response positions -> chunked log-probs.

    One module whose forward touches every parameter, so that FSDP's root hooks gather the embedding and lm_head
    before they are used here (calling the backbone and reading lm_head.weight from outside would see shards)."""

    def __init__(self, causal_lm: nn.Module, padding_free: bool = False):
        super().__init__()
        self.lm = causal_lm
        self.padding_free = padding_free

    @property
    def lm_head(self) -> nn.Linear:
        return self.lm.get_output_embeddings()

    def hidden(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """[B, L, H] final hidden states of right-padded rows. Padding-free: the rows' real tokens run as one packed
        row (position ids restart at each sequence, which transformers turns into a block-diagonal causal mask,
        or flash-attention's varlen kernel), so no FLOP is spent on padding; the result is scattered back to
        [B, L, H] with zeros at padding."""
        backbone = self.lm.get_decoder()
        if not self.padding_free:
            return backbone(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
        keep = attention_mask > 0
        positions = (attention_mask.long().cumsum(-1) - 1)[keep][None]
        packed = backbone(input_ids=input_ids[keep][None], position_ids=positions, use_cache=False).last_hidden_state
        out = packed.new_zeros((*input_ids.shape, packed.shape[-1]))
        out[keep] = packed[0]
        return out

    def forward(self, input_ids: Tensor, attention_mask: Tensor, positions: Tensor, tokens: Tensor, mask: Tensor,
                temperature: float = 1.0, chunk_tokens: int = 1024, want_entropy: bool = False,
                extras: dict[str, PositionFn] | None = None, full_logits: bool = False,
                ref_hidden: Tensor | None = None, ref_weight: Tensor | None = None) -> dict[str, Tensor]:
        """[B, T] logprobs (and entropy / extras) at the training temperature, 0 at padding; with full_logits also
        the [B, T, V] fp32 logits (for objectives that still take them whole). The entropy is a metric here, off the
        autograd graph (objectives that differentiate an entropy take full logits or an extra)."""
        h = response_hidden(self.hidden(input_ids, attention_mask), positions, mask)
        head = self.lm_head
        stats = token_stats(h, head.weight, tokens[mask > 0], temperature, chunk_tokens, want_entropy, head.bias,
                            extras, ref_hidden, ref_weight, entropy_grad=False)
        out = {k: scatter_tokens(v, mask) for k, v in stats.items()}
        # Keep the result on the autograd graph even when no row has a response token (a micro-batch of empty
        # responses): its backward must still run, FSDP's gradient reduction waits for every rank's.
        out["logprobs"] = out["logprobs"] + 0.0 * h.sum()
        if full_logits:
            z = chunk_logits(h, head.weight, head.bias, temperature)
            full = z.new_zeros((*mask.shape, z.shape[-1]))
            full[mask > 0] = z
            out["logits"] = full
        return out
