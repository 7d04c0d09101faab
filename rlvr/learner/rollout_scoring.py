"""The learner's no-grad passes: scoring a rollout batch before the update (old-policy and reference log-probs,
critic values, the objective's rollout statistic) and the whole mini-batch statistic some objectives (SIREN) need
before their micro-batch losses. Both walk the same per-rank micro-batch plan as the update, so that with several
ranks FSDP's collectives stay in step, and both add their sums over ranks. `learner` is an
rlvr.learner.learner.Learner (its plan, forward, autocast and models).
"""
from __future__ import annotations

from typing import Any

import torch

from rlvr.algorithms import LossInputs, Objective
from rlvr.batch import PaddedBatch, TrainBatch, pad_batch
from rlvr.learner.tensor_batch import trim_rows


@torch.no_grad()
def score_rollouts(learner, batch: TrainBatch, objective: Objective) -> dict[str, Any]:
    """Old-policy and reference log-probs and critic values [B, T] (on CPU), in micro-batches, for the driver's
    advantage estimation; also runs the objective's on_rollout hook and returns its state.

    Several ranks split the rows and gather the results (every rank returns the whole batch)."""
    # Logits only for a rollout statistic the objective still wants (SIREN's anchor, once), one micro-batch at a
    # time: the statistic is a (sum, count) that adds up over micro-batches and ranks.
    want_statistic = objective.wants_rollout_statistic()
    statistic = [0.0, 0.0]
    pb = pad_batch(batch, learner.pad_id).to(learner.device)
    B, T = pb.mask.shape
    out = {"old_logprobs": pb.mask.new_zeros(B, T)}
    if learner.reference is not None:
        out["ref_logprobs"] = pb.mask.new_zeros(B, T)
    if learner.critic is not None:
        out["values"] = pb.mask.new_zeros(B, T)
    learner.scorer.eval()
    for rows in learner.plan(list(range(B)), batch):
        mi = torch.tensor(rows or [0], device=learner.device)
        mpb = trim_rows(pb, mi)
        t = mpb.mask.shape[1]
        got = {"old_logprobs": learner.forward(learner.scorer, mpb, want_logits=want_statistic)}
        if learner.reference is not None:
            got["ref_logprobs"] = learner.forward(learner.reference, mpb, want_logits=False)
        values = None
        if learner.critic is not None:
            with learner.autocast():
                values = learner.critic.values(mpb)
        if not rows:  # a rank short of micro-batches keeps FSDP's collectives in step; result unused
            continue
        if want_statistic:
            part, count = objective.statistic_part(got["old_logprobs"]["logits"], mpb.mask)
            statistic = [statistic[0] + part, statistic[1] + count]
        for k, v in got.items():
            out[k][mi, :t] = v["logprobs"]
        if values is not None:
            out["values"][mi, :t] = values
    learner.scorer.train()
    if learner.dist.active:  # each rank filled its own rows (zeros elsewhere): the sum is the whole batch
        for v in out.values():
            torch.distributed.all_reduce(v)
    if want_statistic:
        total, count = learner.dist.sum(statistic)
        objective.on_rollout_statistic(total, int(count))
    objective.on_rollout(LossInputs(
        logprobs=out["old_logprobs"], mask=pb.mask, global_tokens=float(pb.mask.sum()),
        global_seqs=float(len(batch)), old_logprobs=out["old_logprobs"],
        ref_logprobs=out.get("ref_logprobs"), values=out.get("values")))
    out = {k: v.cpu() for k, v in out.items()}
    out["objective_state"] = objective.state_dict()
    return out


@torch.no_grad()
def minibatch_statistic(learner, objective: Objective, pb: PaddedBatch, plan: list[list[int]]
                        ) -> tuple[float, int]:
    """The objective's statistic over the whole mini-batch at the current weights (SIREN's selected entropy),
    measured in a no-grad pass before the micro-batches' losses so that they can add it exactly (summed over
    ranks)."""
    total, count = 0.0, 0
    for mb in plan:
        mpb = trim_rows(pb, torch.tensor(mb or [0], device=learner.device))
        logits = learner.forward(learner.scorer, mpb, want_logits=True)["logits"]
        if mb:
            part, n = objective.statistic_part(logits, mpb.mask)
            total, count = total + part, count + n
    total, count = learner.dist.sum([total, count])
    return total, int(count)
