"""A finished TrainBatch as tensors on the learner's device, padded once per update: `rows(idx)` cuts one
micro-batch (trimmed of all-pad columns) and `loss_inputs` hands it to the objective."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from rlvr.algorithms import LossInputs
from rlvr.batch import PaddedBatch, TrainBatch, pad_batch

# [B, T] tensors the driver filled (rlvr.step.finish_batch), cut to the micro-batch's rows and response width
PER_TOKEN = ("old_logprobs", "ref_logprobs", "values", "advantages", "returns", "is_weights")


def trim_rows(pb: PaddedBatch, idx: torch.Tensor) -> PaddedBatch:
    """Rows idx, trimmed of all-pad columns (so micro-batches of short sequences stay cheap)."""
    attn = pb.attention_mask[idx]
    L = int(attn.sum(-1).max())
    mask = pb.mask[idx]
    T = max(1, int(mask.sum(-1).max()))
    return PaddedBatch(pb.input_ids[idx, :L], attn[:, :L], pb.positions[idx, :T], pb.response_ids[idx, :T],
                       mask[:, :T])


@dataclass
class MicroBatch:
    padded: PaddedBatch
    fields: dict[str, torch.Tensor | None]

    def loss_inputs(self, forward: dict, reference: dict | None, global_tokens: float, global_seqs: float
                    ) -> LossInputs:
        """`forward`: the policy's pass over these rows (log-probs, logits when asked); `reference`: the reference
        model's full-logit pass when the objective needs one per micro-batch (its log-probs stand in for the
        driver's when the batch has none)."""
        f = self.fields
        ref_logprobs = f["ref_logprobs"]
        if ref_logprobs is None and reference is not None:
            ref_logprobs = reference["logprobs"]
        return LossInputs(logprobs=forward["logprobs"], mask=self.padded.mask, global_tokens=global_tokens,
                          global_seqs=global_seqs, old_logprobs=f["old_logprobs"], advantages=f["advantages"],
                          ref_logprobs=ref_logprobs, logits=forward.get("logits"),
                          ref_logits=None if reference is None else reference["logits"],
                          is_weights=f["is_weights"], positive=f["positive"], group_accuracy=f["group_accuracy"])


class TensorBatch:
    def __init__(self, batch: TrainBatch, pad_id: int, device: torch.device):
        self.padded = pad_batch(batch, pad_id).to(device)
        T = self.padded.mask.shape[1]
        self.device = device
        self.fields: dict[str, torch.Tensor | None] = {
            k: None if getattr(batch, k) is None else getattr(batch, k)[:, :T].to(device) for k in PER_TOKEN}
        self.fields["positive"] = (torch.tensor(batch.positive, dtype=torch.bool, device=device)
                                   if batch.positive else None)
        self.fields["group_accuracy"] = (None if batch.group_accuracy is None
                                         else batch.group_accuracy.to(device))

    def normalisers(self, rows: list[int]) -> tuple[float, float]:
        """The mini-batch's token count and sequence count, the denominators every micro-batch's loss uses. Empty
        responses have nothing to average: they do not count as sequences (§12b.6)."""
        mask = self.padded.mask[torch.tensor(rows, device=self.device)]
        return float(mask.sum()), float((mask.sum(-1) > 0).sum())

    def rows(self, rows: list[int]) -> MicroBatch:
        idx = torch.tensor(rows, device=self.device)
        padded = trim_rows(self.padded, idx)
        t = padded.mask.shape[1]
        cut = {k: None if v is None else (v[idx, :t] if v.dim() == 2 else v[idx]) for k, v in self.fields.items()}
        return MicroBatch(padded, cut)
