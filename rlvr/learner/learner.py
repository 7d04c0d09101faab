"""The learner: owns the policy (plus the frozen reference and the critic when the objective declares them),
the optimizer and the schedule. Two calls per step: `score_rollouts` (the no-grad old/reference/value pass the driver
needs for advantages) and `update` (optimizer steps on a batch whose advantages the driver already computed).

The objective is built once, on the driver, and passed in by value: the learner never estimates advantages and
never keeps objective state of its own (what on_rollout sets, e.g. SIREN's anchor, goes back to the driver).
The objective never sees models, only tensors (rlvr.algorithms.base.LossInputs); the learner never sees formulas.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlvr.algorithms import LossInputs, Objective
from rlvr.algorithms.entropy import token_entropy
from rlvr.batch import PaddedBatch, TrainBatch, pad_batch, response_logits, token_logprobs
from rlvr.infra.hf_weights import with_lm_head
from rlvr.rollout.engine import teacher_forced_logprobs


@dataclass
class LearnerSettings:
    lr: float = 5e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 0
    schedule: str = "constant"
    total_steps: int = 100
    grad_clip: float = 1.0
    mini_batch_prompts: int | None = None
    micro_batch_size: int = 128
    epochs: int = 1
    rollout_temperature: float = 1.0
    device: str = "cpu"
    dtype: str = "float32"
    seed: int = 0
    critic_lr: float = 1e-5
    num_threads: int | None = None


def lr_lambda(settings: LearnerSettings):
    """Linear warm-up over `warmup_steps` rollout steps, then constant, linear or cosine decay to 0."""
    def f(step: int) -> float:
        if step < settings.warmup_steps:
            return (step + 1) / settings.warmup_steps
        if settings.schedule == "constant":
            return 1.0
        progress = min(1.0, (step - settings.warmup_steps) / max(1, settings.total_steps - settings.warmup_steps))
        if settings.schedule == "linear":
            return 1.0 - progress
        if settings.schedule == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        raise ValueError(f"trainer.schedule={settings.schedule!r}; choose constant, linear or cosine")
    return f


class Learner:
    def __init__(self, model_path: str, objective: Objective, settings: LearnerSettings):
        if settings.num_threads:
            torch.set_num_threads(settings.num_threads)
        torch.manual_seed(settings.seed)
        self.settings = settings
        self.device = torch.device(settings.device)
        self.dtype = getattr(torch, settings.dtype)
        self.objective = objective
        self.needs = objective.needs
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.pad_id = self.tokenizer.pad_token_id
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=self.dtype).to(self.device)
        self.model.train()
        self.reference = None
        if self.needs.reference_model:
            self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.critic = self.critic_optimizer = None
        if self.needs.critic:
            from rlvr.learner.critic import ValueModel

            self.critic = ValueModel(model_path, self.dtype).to(self.device)
            self.critic_optimizer = torch.optim.AdamW(self.critic.parameters(), lr=settings.critic_lr)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=settings.lr, betas=tuple(settings.betas),
                                           weight_decay=settings.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda(settings))
        # The temperature the loss is computed at: the rollout's (verl), unless the objective decouples it (OSFT).
        self.train_temperature = (self.needs.train_temperature if self.needs.train_temperature is not None
                                  else settings.rollout_temperature)

    # ----------------------------------------------------------------------------------------------- forward passes
    def _forward(self, model, pb: PaddedBatch, want_logits: bool):
        logits = model(input_ids=pb.input_ids, attention_mask=pb.attention_mask).logits
        resp = response_logits(logits, pb.positions).float() / self.train_temperature
        logprobs = token_logprobs(resp, pb.response_ids) * pb.mask
        return logprobs, (resp if want_logits else None)

    @torch.no_grad()
    def score(self, sequences: list[list[int]]) -> list[list[float]]:
        """Teacher-forced log-probs at temperature 1 (the weight-sync check compares these with the engine's)."""
        self.model.eval()
        out = teacher_forced_logprobs(lambda x: self.model(input_ids=x).logits, sequences, self.device)
        self.model.train()
        return out

    def named_weights(self) -> dict[str, torch.Tensor]:
        """Every tensor of the HF state dict, lm_head.weight included even when tied (vLLM needs it)."""
        return with_lm_head({k: v.detach().to("cpu") for k, v in self.model.state_dict().items()})

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict({k: v for k, v in state.items() if k in self.model.state_dict()})

    # ------------------------------------------------------------------------------------- the no-grad scoring pass
    @torch.no_grad()
    def score_rollouts(self, batch: TrainBatch, objective: Objective | None = None) -> dict[str, Any]:
        """Old-policy and reference log-probs and critic values [B, T] (on CPU), in micro-batches, for the driver's
        advantage estimation; also runs the objective's on_rollout hook and returns its state."""
        objective = objective or self.objective
        s = self.settings
        pb = pad_batch(batch, self.pad_id).to(self.device)
        full_logits = objective.needs.full_logits
        parts: dict[str, list[torch.Tensor]] = {"old_logprobs": [], "ref_logprobs": [], "values": [], "logits": []}
        self.model.eval()
        for m0 in range(0, len(batch), s.micro_batch_size):
            mpb = _rows(pb, torch.arange(m0, min(m0 + s.micro_batch_size, len(batch)), device=self.device))
            lp, logits = self._forward(self.model, mpb, want_logits=full_logits)
            parts["old_logprobs"].append(lp)
            if full_logits:
                parts["logits"].append(logits)
            if self.reference is not None:
                parts["ref_logprobs"].append(self._forward(self.reference, mpb, want_logits=False)[0])
            if self.critic is not None:
                parts["values"].append(self._values(mpb))
        self.model.train()
        out = {k: _cat_rows(v, pb.mask.shape[1]) for k, v in parts.items() if v}
        logits = out.pop("logits", None)
        objective.on_rollout(LossInputs(
            logprobs=out["old_logprobs"], mask=pb.mask, global_tokens=float(pb.mask.sum()),
            global_seqs=float(len(batch)), old_logprobs=out["old_logprobs"], logits=logits,
            ref_logprobs=out.get("ref_logprobs"), values=out.get("values")))
        out = {k: v.cpu() for k, v in out.items()}
        out["objective_state"] = objective.state_dict()
        return out

    # ------------------------------------------------------------------------------------------------- the update
    def update(self, batch: TrainBatch, step: int, objective: Objective | None = None) -> dict[str, float]:
        """One rollout step's worth of optimizer steps (mini-batches x epochs, micro-batch accumulation) on a batch
        the driver finished: old log-probs and advantages present for rollouts (see score_rollouts)."""
        objective = objective or self.objective
        s = self.settings
        is_rollout = objective.needs.data != "demonstrations"
        if is_rollout and (batch.old_logprobs is None or batch.advantages is None and not _advantage_free(objective)):
            raise ValueError("Learner.update got a rollout batch without old_logprobs/advantages: score it with "
                             "score_rollouts and compute the advantages on the driver first (rlvr.step)")
        pb = pad_batch(batch, self.pad_id).to(self.device)
        T = pb.mask.shape[1]
        tensor = lambda t: None if t is None else t[:, :T].to(self.device)  # noqa: E731
        old_lp, ref_lp, values = tensor(batch.old_logprobs), tensor(batch.ref_logprobs), tensor(batch.values)
        advantages, returns, is_weights = tensor(batch.advantages), tensor(batch.returns), tensor(batch.is_weights)
        positive = torch.tensor(batch.positive, dtype=torch.bool, device=self.device) if batch.positive else None
        group_rate = _group_positive_rate(batch, self.device) if batch.positive else None
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        n_opt_steps = 0
        grad_norms: list[float] = []
        mb_losses: list[float] = []
        entropy_sum = entropy_tokens = 0.0
        generator = torch.Generator().manual_seed(s.seed * 1_000_003 + step)
        groups = list(dict.fromkeys(batch.group_ids))
        per_mb = s.mini_batch_prompts or len(groups)
        for epoch in range(s.epochs):
            order = [groups[i] for i in torch.randperm(len(groups), generator=generator).tolist()] if (
                s.epochs > 1 or per_mb < len(groups)) else groups
            for start in range(0, len(order), per_mb):
                chosen = set(order[start:start + per_mb])
                idx_t = torch.tensor([i for i, g in enumerate(batch.group_ids) if g in chosen], device=self.device)
                global_tokens = float(pb.mask[idx_t].sum())
                # Empty responses have nothing to average: they do not count as sequences (§12b.6).
                global_seqs = float((pb.mask[idx_t].sum(-1) > 0).sum())
                if objective.needs.minibatch_statistic:
                    objective.begin_minibatch(*self._minibatch_statistic(objective, pb, idx_t))
                self.optimizer.zero_grad(set_to_none=True)
                if self.critic_optimizer is not None:
                    self.critic_optimizer.zero_grad(set_to_none=True)
                mb_loss = 0.0
                for m0 in range(0, len(idx_t), s.micro_batch_size):
                    mi = idx_t[m0:m0 + s.micro_batch_size]
                    mpb = _rows(pb, mi)
                    t = mpb.mask.shape[1]
                    cut = lambda x: None if x is None else x[mi, :t]  # noqa: E731
                    lp, logits = self._forward(self.model, mpb, want_logits=True)
                    ref_logits = None
                    if self.reference is not None and objective.needs.full_logits:
                        with torch.no_grad():  # full reference logits only per micro-batch (ASFT's KL)
                            ref_mb_lp, ref_logits = self._forward(self.reference, mpb, want_logits=True)
                    li = LossInputs(
                        logprobs=lp, mask=mpb.mask, global_tokens=global_tokens, global_seqs=global_seqs,
                        old_logprobs=cut(old_lp), advantages=cut(advantages),
                        ref_logprobs=cut(ref_lp) if ref_lp is not None or ref_logits is None else ref_mb_lp,
                        logits=logits if objective.needs.full_logits else None, ref_logits=ref_logits,
                        is_weights=cut(is_weights),
                        positive=None if positive is None else positive[mi],
                        group_accuracy=None if group_rate is None else group_rate[mi])
                    loss, m = objective.loss(li)
                    loss.backward()
                    _accumulate(sums, counts, m)
                    mb_loss += float(loss.detach())  # micro-batch losses are partial sums of the mini-batch loss
                    with torch.no_grad():
                        entropy_sum += float((token_entropy(logits) * mpb.mask).sum())
                        entropy_tokens += float(mpb.mask.sum())
                    if self.critic is not None:
                        li.values, li.old_values, li.returns = self._values(mpb), cut(values), cut(returns)
                        closs, cm = objective.critic_loss(li)
                        closs.backward()
                        _accumulate(sums, counts, {**cm, "critic_loss": float(closs.detach())})
                mb_losses.append(mb_loss)
                grad_norms.append(float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), s.grad_clip)))
                self.optimizer.step()
                if self.critic_optimizer is not None:
                    torch.nn.utils.clip_grad_norm_(self.critic.parameters(), s.grad_clip)
                    self.critic_optimizer.step()
                n_opt_steps += 1
        self.scheduler.step()
        if objective.needs.minibatch_statistic:
            objective.begin_minibatch(None, 0)
        metrics = {k: v / counts[k] for k, v in sums.items()}
        metrics.update(entropy=entropy_sum / max(1.0, entropy_tokens), loss=sum(mb_losses) / max(1, len(mb_losses)),
                       grad_norm=sum(grad_norms) / max(1, len(grad_norms)), optimizer_steps=float(n_opt_steps),
                       lr=self.scheduler.get_last_lr()[0])
        return metrics

    @torch.no_grad()
    def _minibatch_statistic(self, objective: Objective, pb: PaddedBatch, idx: torch.Tensor) -> tuple[float, int]:
        """The objective's statistic over the whole mini-batch at the current weights (SIREN's selected entropy),
        measured in a no-grad pass before the micro-batches' losses so that they can add it exactly."""
        total, count = 0.0, 0
        for m0 in range(0, len(idx), self.settings.micro_batch_size):
            mpb = _rows(pb, idx[m0:m0 + self.settings.micro_batch_size])
            part, n = objective.statistic_part(self._forward(self.model, mpb, want_logits=True)[1], mpb.mask)
            total, count = total + part, count + n
        return total, count

    def _values(self, pb: PaddedBatch) -> torch.Tensor:
        return self.critic(pb.input_ids, pb.attention_mask).gather(1, pb.positions) * pb.mask

    # ------------------------------------------------------------------------------------- checkpoint/resume state
    def training_state(self) -> dict[str, Any]:
        state = {"scheduler": self.scheduler.state_dict()}
        if self.critic is not None:
            state["critic"] = self.critic.state_dict()
            state["critic_optimizer"] = self.critic_optimizer.state_dict()
        return state

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state["scheduler"])
        if self.critic is not None and "critic" in state:
            self.critic.load_state_dict(state["critic"])
            self.critic_optimizer.load_state_dict(state["critic_optimizer"])


def _advantage_free(objective: Objective) -> bool:
    """Objectives whose loss uses labels, not advantages (NFT)."""
    return type(objective).compute_advantages is Objective.compute_advantages


def _rows(pb: PaddedBatch, idx: torch.Tensor) -> PaddedBatch:
    """Rows idx, trimmed of all-pad columns (so micro-batches of short sequences stay cheap)."""
    attn = pb.attention_mask[idx]
    L = int(attn.sum(-1).max())
    mask = pb.mask[idx]
    T = max(1, int(mask.sum(-1).max()))
    return PaddedBatch(pb.input_ids[idx, :L], attn[:, :L], pb.positions[idx, :T], pb.response_ids[idx, :T],
                       mask[:, :T])


def _cat_rows(chunks: list[torch.Tensor], width: int) -> torch.Tensor:
    """Stack micro-batch results [b, t, ...] (each trimmed to its own longest response) back to [B, width, ...]."""
    out = chunks[0].new_zeros((sum(c.shape[0] for c in chunks), width, *chunks[0].shape[2:]))
    row = 0
    for c in chunks:
        out[row:row + c.shape[0], :c.shape[1]] = c
        row += c.shape[0]
    return out


def _group_positive_rate(batch: TrainBatch, device) -> torch.Tensor:
    """Each sample's group's fraction of positive samples (NFT's r-hat), under the trained reward's label."""
    by_group: dict[int, list[bool]] = {}
    for g, c in zip(batch.group_ids, batch.positive):
        by_group.setdefault(g, []).append(c)
    rate = {g: sum(v) / len(v) for g, v in by_group.items()}
    return torch.tensor([rate[g] for g in batch.group_ids], dtype=torch.float32, device=device)


def _accumulate(sums: dict[str, float], counts: dict[str, int], metrics: dict) -> None:
    for k, v in metrics.items():
        if isinstance(v, torch.Tensor):
            v = float(v.detach())
        if isinstance(v, (int, float)) and math.isfinite(v):
            sums[k] = sums.get(k, 0.0) + v
            counts[k] = counts.get(k, 0) + 1
