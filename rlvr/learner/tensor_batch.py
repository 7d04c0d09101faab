"""A finished TrainBatch as tensors on the learner's device, padded once per update: `rows(idx)` cuts one
micro-batch (trimmed of all-pad columns) and `loss_inputs` hands it to the objective. A one-step update's batch may
come without old log-probs: its micro-batches then take them from the update's own forward (`old_logprobs_from`)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from rlvr.algorithms import LossInputs, Objective
from rlvr.algorithms.policy_loss import truncated_importance_weights
from rlvr.batch import PaddedBatch, TrainBatch, pad_batch, padded_sampling_logprobs

# [B, T] tensors the driver filled (rlvr.step.finish_batch), cut to the micro-batch's rows and response width
PER_TOKEN = ("old_logprobs", "ref_logprobs", "values", "advantages", "returns", "is_weights")
OLD_LOGPROB_METRICS = ("rollout_learner_logprob_diff", "is_weight_mean", "is_weight_capped_fraction")


def check_finished(batch: TrainBatch, objective: Objective, one_epoch_reuse: bool, mini_batch_prompts: int | None
                   ) -> bool:
    """A rollout batch reaches the update with advantages (objectives whose loss uses labels, not advantages, such
    as NFT, need none) and old log-probs, unless the update is one optimizer step (`one_epoch_reuse`: one epoch and
    learner.reuse_update_forward; one mini-batch): then the update's own forward gives them, and this says True."""
    if objective.needs.data == "demonstrations":
        return False
    advantage_free = type(objective).compute_advantages is Objective.compute_advantages
    if batch.advantages is None and not advantage_free:
        raise ValueError("Learner.update got a rollout batch without advantages: compute them on the driver first "
                         "(rlvr.step.finish_batch)")
    if batch.old_logprobs is not None:
        return False
    if not (one_epoch_reuse and (not mini_batch_prompts or mini_batch_prompts >= len(set(batch.group_ids)))):
        raise ValueError("Learner.update got a rollout batch without old_logprobs for an update of several "
                         "optimizer steps: score it with score_rollouts first (rlvr.step.scoring_pass_needed)")
    return True


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

    def old_logprobs_from(self, logprobs: torch.Tensor, is_cap: float | None) -> dict[str, tuple[torch.Tensor,
                                                                                                    torch.Tensor]]:
        """A one-step update's old log-probs are its own forward's, detached (the weights have not moved yet), and
        the truncated importance weights against the sampler follow from them as on the driver
        (rlvr.step.finish_batch). Returns each metric's (sum over tokens, tokens)."""
        old = self.fields["old_logprobs"] = logprobs.detach()
        sampled, mask = self.fields["sampling_logprobs"], self.padded.mask
        if sampled is None:
            return {}
        tokens = mask.sum()
        sums = {"rollout_learner_logprob_diff": (((sampled - old).abs() * mask).sum(), tokens)}
        if is_cap:
            weights = self.fields["is_weights"] = truncated_importance_weights(old, sampled, is_cap) * mask
            sums["is_weight_mean"] = ((weights * mask).sum(), tokens)
            sums["is_weight_capped_fraction"] = (((weights >= is_cap).float() * mask).sum(), tokens)
        return sums


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
        # The sampler's log-probs travel only to an update that takes the old ones from its own forward (the driver
        # computed the importance weights otherwise).
        sampled = padded_sampling_logprobs(batch, T) if batch.old_logprobs is None else None
        self.fields["sampling_logprobs"] = None if sampled is None else sampled.to(device)

    def old_logprob_metrics(self, is_cap: float | None) -> tuple[str, ...]:
        """What old_logprobs_from reports for this batch's micro-batches."""
        if self.fields["sampling_logprobs"] is None:
            return ()
        return OLD_LOGPROB_METRICS if is_cap else OLD_LOGPROB_METRICS[:1]

    def normalisers(self, rows: list[int]) -> tuple[float, float]:
        """The mini-batch's token count and sequence count, the denominators every micro-batch's loss uses. Empty
        responses have nothing to average: they do not count as sequences (§12b.6)."""
        mask = self.padded.mask[torch.tensor(rows, device=self.device)]
        return float(mask.sum()), float((mask.sum(-1) > 0).sum())

    def rows_with_signal(self, rows: list[int]) -> list[int]:
        """Those of `rows` with a non-zero advantage on some response token (all of them when the batch has no
        advantages). Never empty: if no row has one, the first row stays, so the step still runs a backward (every
        parameter gets its zero gradient and AdamW steps as it would) and every rank's collectives stay in step."""
        adv = self.fields["advantages"]
        if adv is None or not rows:
            return rows
        idx = torch.tensor(rows, device=self.device)
        live = ((adv[idx] != 0) & (self.padded.mask[idx] > 0)).any(-1).tolist()
        return [r for r, keep in zip(rows, live) if keep] or rows[:1]

    def rows(self, rows: list[int]) -> MicroBatch:
        idx = torch.tensor(rows, device=self.device)
        padded = trim_rows(self.padded, idx)
        t = padded.mask.shape[1]
        cut = {k: None if v is None else (v[idx, :t] if v.dim() == 2 else v[idx]) for k, v in self.fields.items()}
        return MicroBatch(padded, cut)
