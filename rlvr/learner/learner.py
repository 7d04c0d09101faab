"""The learner: owns the policy (plus the frozen reference and the critic when the objective declares them),
the optimizer and the schedule, and turns a TrainBatch into optimizer steps through the objective's loss.

The objective never sees models, only tensors (rlvr.algorithms.base.LossInputs); the learner never sees formulas.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlvr.algorithms import AdvantageInputs, LossInputs, build_objective
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
    def __init__(self, model_path: str, algorithm: dict[str, Any], settings: LearnerSettings):
        if settings.num_threads:
            torch.set_num_threads(settings.num_threads)
        torch.manual_seed(settings.seed)
        self.settings = settings
        self.device = torch.device(settings.device)
        self.dtype = getattr(torch, settings.dtype)
        algorithm = dict(algorithm)
        self.objective = build_objective(algorithm.pop("name"), **algorithm)
        self.needs = self.objective.needs
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
    def _forward(self, model, pb: PaddedBatch, temperature: float, want_logits: bool):
        logits = model(input_ids=pb.input_ids, attention_mask=pb.attention_mask).logits
        resp = response_logits(logits, pb.positions).float() / temperature
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

    # ------------------------------------------------------------------------------------------------- the update
    def update(self, batch: TrainBatch, step: int) -> dict[str, float]:
        """One rollout step's worth of optimizer steps (mini-batches x epochs, micro-batch accumulation)."""
        s = self.settings
        pb = pad_batch(batch, self.pad_id).to(self.device)
        full_logits = self.needs.full_logits
        temp = self.train_temperature
        metrics: dict[str, float] = {}
        with torch.no_grad():
            self.model.eval()
            old_lp, old_logits = self._forward(self.model, pb, temp, want_logits=full_logits)
            ref_lp = ref_logits = values = None
            if self.reference is not None:
                ref_lp, ref_logits = self._forward(self.reference, pb, temp, want_logits=full_logits)
            if self.critic is not None:
                values = self._values(pb)
            self.model.train()
        lengths = pb.mask.sum(-1).long()
        advantages = returns = None
        is_rollout = self.needs.data != "demonstrations"
        if is_rollout:
            adv_in = AdvantageInputs(
                rewards=torch.tensor(batch.rewards, dtype=torch.float32, device=self.device),
                correct=torch.tensor(batch.correct, dtype=torch.bool, device=self.device),
                group_ids=torch.tensor(batch.group_ids, dtype=torch.long, device=self.device),
                mask=pb.mask, response_lengths=lengths,
                truncated=torch.tensor(batch.truncated or [False] * len(batch), dtype=torch.bool, device=self.device),
                old_logprobs=old_lp, ref_logprobs=ref_lp, values=values)
            advantages, returns = self.objective.compute_advantages(adv_in)
        group_acc = self._group_accuracy(batch) if batch.correct else None
        correct = torch.tensor(batch.correct, dtype=torch.bool, device=self.device) if batch.correct else None
        self.objective.on_rollout(LossInputs(
            logprobs=old_lp, mask=pb.mask, global_tokens=float(pb.mask.sum()), global_seqs=float(len(batch)),
            old_logprobs=old_lp, advantages=advantages, ref_logprobs=ref_lp, logits=old_logits,
            ref_logits=ref_logits, values=values, old_values=values, returns=returns, correct=correct,
            group_accuracy=group_acc))
        if batch.sampling_logprobs:
            samp_lp = torch.zeros_like(old_lp)
            for b, lp in enumerate(batch.sampling_logprobs):
                samp_lp[b, :len(lp)] = torch.tensor(lp, dtype=samp_lp.dtype)
            diff = ((samp_lp - old_lp).abs() * pb.mask).sum() / pb.mask.sum().clamp(min=1)
            metrics["rollout_learner_logprob_diff"] = float(diff)
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        n_opt_steps = 0
        grad_norms: list[float] = []
        mb_losses: list[float] = []
        generator = torch.Generator().manual_seed(s.seed * 1_000_003 + step)
        groups = list(dict.fromkeys(batch.group_ids))
        per_mb = s.mini_batch_prompts or len(groups)
        for epoch in range(s.epochs):
            order = [groups[i] for i in torch.randperm(len(groups), generator=generator).tolist()] if (
                s.epochs > 1 or per_mb < len(groups)) else groups
            for start in range(0, len(order), per_mb):
                chosen = set(order[start:start + per_mb])
                idx = [i for i, g in enumerate(batch.group_ids) if g in chosen]
                idx_t = torch.tensor(idx, device=self.device)
                global_tokens = float(pb.mask[idx_t].sum())
                self.optimizer.zero_grad(set_to_none=True)
                if self.critic_optimizer is not None:
                    self.critic_optimizer.zero_grad(set_to_none=True)
                mb_loss = 0.0
                for m0 in range(0, len(idx), s.micro_batch_size):
                    mi = idx_t[m0:m0 + s.micro_batch_size]
                    mpb = self._slice(pb, mi)
                    T = mpb.mask.shape[1]
                    lp, logits = self._forward(self.model, mpb, temp, want_logits=True)
                    li = LossInputs(
                        logprobs=lp, mask=mpb.mask, global_tokens=global_tokens, global_seqs=float(len(idx)),
                        old_logprobs=old_lp[mi, :T],
                        advantages=None if advantages is None else advantages[mi, :T],
                        ref_logprobs=None if ref_lp is None else ref_lp[mi, :T],
                        logits=logits if full_logits else None,
                        ref_logits=None if ref_logits is None else ref_logits[mi, :T],
                        correct=None if correct is None else correct[mi],
                        group_accuracy=None if group_acc is None else group_acc[mi])
                    loss, m = self.objective.loss(li)
                    loss.backward()
                    with torch.no_grad():
                        ent = entropy_sum(logits, mpb.mask)
                    self._accumulate(sums, counts, m)
                    mb_loss += float(loss.detach())  # micro-batch losses are partial sums of the mini-batch loss
                    sums["entropy_sum"] = sums.get("entropy_sum", 0.0) + ent
                    sums["entropy_tokens"] = sums.get("entropy_tokens", 0.0) + float(mpb.mask.sum())
                    if self.critic is not None:
                        v = response_values(self.critic(mpb.input_ids, mpb.attention_mask), mpb.positions) * mpb.mask
                        li.values, li.old_values, li.returns = v, values[mi, :T], returns[mi, :T]
                        closs, cm = self.objective.critic_loss(li)
                        closs.backward()
                        self._accumulate(sums, counts, {**cm, "critic_loss": float(closs.detach())})
                mb_losses.append(mb_loss)
                grad_norms.append(float(torch.nn.utils.clip_grad_norm_(self.model.parameters(), s.grad_clip)))
                self.optimizer.step()
                if self.critic_optimizer is not None:
                    torch.nn.utils.clip_grad_norm_(self.critic.parameters(), s.grad_clip)
                    self.critic_optimizer.step()
                n_opt_steps += 1
        self.scheduler.step()
        for k, v in sums.items():
            if k not in ("entropy_sum", "entropy_tokens"):
                metrics[k] = v / counts[k]
        metrics["entropy"] = sums.get("entropy_sum", 0.0) / max(1.0, sums.get("entropy_tokens", 0.0))
        metrics["loss"] = sum(mb_losses) / max(1, len(mb_losses))
        metrics["grad_norm"] = sum(grad_norms) / max(1, len(grad_norms))
        metrics["optimizer_steps"] = float(n_opt_steps)
        metrics["lr"] = self.scheduler.get_last_lr()[0]
        if ref_lp is not None:
            metrics["kl_ref_k3"] = float(kl_k3_mean(old_lp, ref_lp, pb.mask))
        return metrics

    def _values(self, pb: PaddedBatch) -> torch.Tensor:
        return response_values(self.critic(pb.input_ids, pb.attention_mask), pb.positions) * pb.mask

    @staticmethod
    def _slice(pb: PaddedBatch, idx: torch.Tensor) -> PaddedBatch:
        """Rows idx, trimmed of all-pad columns (so micro-batches of short sequences stay cheap)."""
        attn = pb.attention_mask[idx]
        L = int(attn.sum(-1).max())
        mask = pb.mask[idx]
        T = max(1, int(mask.sum(-1).max()))
        return PaddedBatch(pb.input_ids[idx, :L], attn[:, :L], pb.positions[idx, :T], pb.response_ids[idx, :T],
                           mask[:, :T])

    def _group_accuracy(self, batch: TrainBatch) -> torch.Tensor:
        """The measured accuracy r-hat of each sample's group (NFT's prompt weights need it)."""
        by_group: dict[int, list[bool]] = {}
        for g, c in zip(batch.group_ids, batch.correct):
            by_group.setdefault(g, []).append(c)
        acc = {g: sum(v) / len(v) for g, v in by_group.items()}
        return torch.tensor([acc[g] for g in batch.group_ids], dtype=torch.float32, device=self.device)

    @staticmethod
    def _accumulate(sums, counts, metrics):
        for k, v in metrics.items():
            if isinstance(v, torch.Tensor):
                v = float(v.detach())
            if isinstance(v, (int, float)) and math.isfinite(v):
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1

    # ------------------------------------------------------------------------------------- checkpoint/resume state
    def training_state(self) -> dict[str, Any]:
        state = {"scheduler": self.scheduler.state_dict(), "objective": self.objective.state_dict()}
        if self.critic is not None:
            state["critic"] = self.critic.state_dict()
            state["critic_optimizer"] = self.critic_optimizer.state_dict()
        return state

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state["scheduler"])
        self.objective.load_state_dict(state["objective"])
        if self.critic is not None and "critic" in state:
            self.critic.load_state_dict(state["critic"])
            self.critic_optimizer.load_state_dict(state["critic_optimizer"])


def response_values(values: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    return values.gather(1, positions)


def entropy_sum(logits: torch.Tensor, mask: torch.Tensor) -> float:
    logp = torch.log_softmax(logits.float(), -1)
    return float((-(logp.exp() * logp).sum(-1) * mask).sum())


def kl_k3_mean(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    delta = (ref_logp - logp).clamp(-20, 20)
    return ((delta.exp() - delta - 1) * mask).sum() / mask.sum().clamp(min=1)
