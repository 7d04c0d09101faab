"""The objectives, one class per config name (conf/algorithm/NAME.yaml), wiring the pure pieces together.
Where the authors' code and paper disagree (docs/ALGORITHMS.md §12) the code is the default and the paper an option."""
from __future__ import annotations

import dataclasses

from typing import Any, Sequence

import torch
from torch import Tensor

from .advantages import (broadcast, dr_grpo_scores, gae, grpo_scores, reinforce_scores, rloo_scores, sign_scores,
                         whiten)
from .aggregation import AGG_MODES, aggregate, masked_mean
from .base import AdvantageInputs, LossInputs, Needs, Objective, register, require
from .entropy import token_entropy
from .kl import kl_penalty
from .nft import nft_token_loss
from .policy_loss import clipped_surrogate
from .ppo import AdaptiveKLController, FixedKLController, kl_in_reward, value_loss_matrix
from .siren import peak_entropy_mask, selected_entropy_sum, top_p_entropy
from .sft import dft_tokens, forward_kl_full, nll_tokens


def overlong_penalty(lengths: Tensor, max_len: int, cache_len: int, factor: float = 1.0, floor: bool = True
                     ) -> Tensor:
    """DAPO's soft overlong punishment: 0 up to max_len - cache_len, then falling linearly to -factor at max_len.
    floor=True holds it at -factor beyond max_len (the paper's -1); floor=False keeps falling (verl's formula)."""
    if cache_len <= 0:
        raise ValueError(f"algorithm.overlong_buffer_len must be > 0, got {cache_len}")
    expected = max_len - cache_len
    pen = torch.clamp(-(lengths.double() - expected) / cache_len * factor, max=0.0)
    return torch.clamp(pen, min=-factor) if floor else pen


# ----------------------------------------------------------------------------------------------------------------
# Clipped policy-gradient family: GRPO, Dr. GRPO, DAPO, PSR/NSR/W-REINFORCE, REINFORCE, RLOO, PPO, SIREN
# ----------------------------------------------------------------------------------------------------------------
PG_DEFAULTS: dict[str, Any] = {
    "clip_ratio_low": 0.2, "clip_ratio_high": 0.2,
    "clip_ratio_c": None,            # dual clip for A < 0 (verl default 3, DAPO recipe 10); None = off
    "loss_agg_mode": "token-mean",
    "max_response_length": None,     # the constant L of seq-mean-token-sum-norm
    "kl_loss_coef": 0.0, "kl_loss_type": "k3",   # KL-as-loss (GRPO style); needs the reference model when > 0
    "entropy_coeff": 0.0,            # entropy bonus -c_H·agg(H); needs full logits when > 0
    "filter_groups": False,          # dynamic sampling in the loop
}


class PolicyGradientObjective(Objective):
    """Clipped surrogate on broadcast outcome advantages, + optional KL-as-loss and entropy bonus."""
    defaults = PG_DEFAULTS
    importance_weighted = True

    def validate(self) -> None:
        if self.loss_agg_mode not in AGG_MODES:
            raise ValueError(f"algorithm.loss_agg_mode='{self.loss_agg_mode}' unknown; known: {', '.join(AGG_MODES)}")
        if self.loss_agg_mode == "seq-mean-token-sum-norm" and not self.max_response_length:
            raise ValueError("algorithm.max_response_length must be set (the constant L) for "
                             "loss_agg_mode=seq-mean-token-sum-norm")
        kl_penalty(torch.zeros(1), torch.zeros(1), self.kl_loss_type)

    @property
    def needs(self) -> Needs:
        return Needs(reference_model=self.kl_loss_coef > 0, full_logits=self.entropy_coeff > 0,
                     filter_groups=bool(self.filter_groups))

    @property
    def inert_at_zero_advantage(self) -> bool:
        """The clipped surrogate is -A x (clipped) ratio per token: 0 with a 0 gradient at A = 0, importance weights
        and dual clip included. A KL or entropy term, a critic (PPO) or full-logit terms (SIREN) act on every row."""
        needs = self.needs
        return self.kl_loss_coef == 0 and self.entropy_coeff == 0 and not needs.critic and not needs.full_logits

    def scores(self, inp: AdvantageInputs) -> Tensor:
        raise NotImplementedError

    def compute_advantages(self, inp: AdvantageInputs) -> tuple[Tensor | None, Tensor | None]:
        return broadcast(self.scores(inp), inp.mask), None

    def agg(self, mat: Tensor, inp: LossInputs) -> Tensor:
        return aggregate(mat, inp.mask, self.loss_agg_mode, inp.global_tokens, inp.global_seqs,
                         self.max_response_length)

    def loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        old = require(inp.old_logprobs, "old_logprobs", self.name)
        adv = require(inp.advantages, "advantages", self.name)
        mat, metrics = clipped_surrogate(inp.logprobs, old, adv, inp.mask, self.clip_ratio_low,
                                         self.clip_ratio_high, self.clip_ratio_c)
        if inp.is_weights is not None:
            mat = mat * inp.is_weights
        loss = self.agg(mat, inp)
        metrics["pg_loss"] = float(loss.detach())
        if self.kl_loss_coef > 0:
            kl = self.agg(kl_penalty(inp.logprobs, require(inp.ref_logprobs, "ref_logprobs", self.name),
                                     self.kl_loss_type), inp)
            loss = loss + self.kl_loss_coef * kl
            metrics["kl_loss"] = float(kl.detach())
        if self.entropy_coeff > 0:
            ent = self.agg(token_entropy(require(inp.logits, "logits", self.name)), inp)
            loss = loss - self.entropy_coeff * ent
            metrics["entropy_bonus"] = float(ent.detach())
        return loss, metrics


@register
class GRPO(PolicyGradientObjective):
    """DeepSeekMath GRPO: group-normalised advantages (unbiased std, eps 1e-6), seq-mean-token-mean (the paper;
    verl defaults to token-mean). The paper's KL-as-loss beta was 0.04 (k3); off by default here."""
    name = "grpo"
    defaults = {**PG_DEFAULTS, "loss_agg_mode": "seq-mean-token-mean", "norm_adv_by_std": True, "std_eps": 1e-6}

    def scores(self, inp: AdvantageInputs) -> Tensor:
        return grpo_scores(inp.rewards, inp.group_ids, bool(self.norm_adv_by_std), self.std_eps)


@register
class DrGRPO(PolicyGradientObjective):
    """Dr. GRPO: no std, token sum over a constant L = max_response_length (oat's generate_max_length)."""
    name = "dr_grpo"
    defaults = {**PG_DEFAULTS, "loss_agg_mode": "seq-mean-token-sum-norm", "singleton_group": "zero"}

    def scores(self, inp: AdvantageInputs) -> Tensor:
        return dr_grpo_scores(inp.rewards, inp.group_ids, self.singleton_group)


@register
class DAPO(GRPO):
    """DAPO: clip-higher 0.2/0.28, dual clip 10, token-mean, dynamic sampling, ±1 rewards + soft overlong penalty.
    The loop calls shape_rewards on the raw rewards before advantages."""
    name = "dapo"
    defaults = {**GRPO.defaults, "clip_ratio_high": 0.28, "clip_ratio_c": 10.0, "loss_agg_mode": "token-mean",
                "filter_groups": True, "pm1_reward": True, "overlong_penalty": True,
                "overlong_buffer_len": None,   # None = 0.2·max_response_length (paper: 4096 of 20480)
                "overlong_penalty_factor": 1.0, "overlong_floor": True}

    def validate(self) -> None:
        super().validate()
        if self.overlong_penalty and not self.max_response_length:
            raise ValueError("algorithm.max_response_length must be set for DAPO's overlong penalty "
                             "(or set algorithm.overlong_penalty=false)")

    def shape_rewards(self, rewards: Sequence[float], lengths: Sequence[int], truncated: Sequence[bool]
                      ) -> list[float]:
        r = torch.tensor(rewards, dtype=torch.float64)
        if self.pm1_reward:
            r = 2.0 * r - 1.0
        if self.overlong_penalty:
            L = int(self.max_response_length)
            cache = int(self.overlong_buffer_len or max(1, L // 5))
            r = r + overlong_penalty(torch.tensor(lengths), L, cache, self.overlong_penalty_factor,
                                     bool(self.overlong_floor))
        return r.tolist()


class SignedReinforce(PolicyGradientObjective):
    """RLVR-Decomposed: A = +positive_weight on positive, -negative_weight on negative responses (the trained
    reward's label), no baseline, token-mean over all tokens (zero-advantage ones count in the denominator).
    entropy_coeff 1e-4 is the paper's; its repo yaml's 0.001 is the option (docs/ALGORITHMS.md §3)."""
    defaults = {**PG_DEFAULTS, "entropy_coeff": 1e-4, "positive_weight": 1.0, "negative_weight": 1.0}

    @property
    def needs(self) -> Needs:
        return dataclasses.replace(super().needs, binary_labels=True)

    def scores(self, inp: AdvantageInputs) -> Tensor:
        return sign_scores(require(inp.positive, "a binary reward label", self.name), self.positive_weight,
                           self.negative_weight)


@register
class PSR(SignedReinforce):
    name = "psr"
    defaults = {**SignedReinforce.defaults, "positive_weight": 1.0, "negative_weight": 0.0}


@register
class NSR(SignedReinforce):
    name = "nsr"
    defaults = {**SignedReinforce.defaults, "positive_weight": 0.0, "negative_weight": 1.0}


@register
class WReinforce(SignedReinforce):
    name = "w_reinforce"
    defaults = {**SignedReinforce.defaults, "positive_weight": 0.1, "negative_weight": 1.0}


@register
class Reinforce(PolicyGradientObjective):
    """REINFORCE on the raw reward (no baseline)."""
    name = "reinforce"

    def scores(self, inp: AdvantageInputs) -> Tensor:
        return reinforce_scores(inp.rewards)


@register
class RLOO(PolicyGradientObjective):
    """REINFORCE leave-one-out baseline."""
    name = "rloo"

    def scores(self, inp: AdvantageInputs) -> Tensor:
        return rloo_scores(inp.rewards, inp.group_ids)


@register
class PPO(PolicyGradientObjective):
    """PPO with a critic: KL-in-reward (k1 on pi_old vs ref, fixed or adaptive beta), GAE (gamma = lam = 1),
    whitened advantages, dual clip 3, clipped value loss (0.5)."""
    name = "ppo"
    defaults = {**PG_DEFAULTS, "clip_ratio_c": 3.0, "gamma": 1.0, "lam": 1.0, "whiten_advantages": True,
                "kl_coef": 0.001, "kl_ctrl": "fixed", "kl_target": 0.1, "kl_horizon": 10000.0,
                "cliprange_value": 0.5}

    def validate(self) -> None:
        super().validate()
        if self.kl_ctrl == "fixed":
            self.controller = FixedKLController(self.kl_coef)
        elif self.kl_ctrl == "adaptive":
            self.controller = AdaptiveKLController(self.kl_coef, self.kl_target, self.kl_horizon)
        else:
            raise ValueError(f"algorithm.kl_ctrl must be 'fixed' or 'adaptive', got '{self.kl_ctrl}'")

    @property
    def needs(self) -> Needs:
        return Needs(reference_model=self.kl_coef > 0 or self.kl_loss_coef > 0, critic=True,
                     full_logits=self.entropy_coeff > 0, filter_groups=bool(self.filter_groups))

    def compute_advantages(self, inp: AdvantageInputs) -> tuple[Tensor | None, Tensor | None]:
        values = require(inp.values, "values", self.name)
        old = require(inp.old_logprobs, "old_logprobs", self.name)
        ref = inp.ref_logprobs if self.kl_coef > 0 else None
        if self.kl_coef > 0:
            require(ref, "ref_logprobs", self.name)
        token_rewards, kl = kl_in_reward(inp.rewards, old, ref, inp.mask, self.controller.value)
        per_seq_kl = (kl * inp.mask).sum(-1) / inp.mask.sum(-1).clamp(min=1.0)
        self.controller.update(float(per_seq_kl.mean()), n_steps=int(inp.mask.shape[0]))
        adv, returns = gae(token_rewards, values, inp.mask, self.gamma, self.lam)
        if self.whiten_advantages:
            adv = whiten(adv, inp.mask)
        return adv, returns

    def critic_loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        values = require(inp.values, "values", self.name)
        mat, clipped = value_loss_matrix(values, require(inp.old_values, "old_values", self.name),
                                         require(inp.returns, "returns", self.name), self.cliprange_value)
        loss = aggregate(mat, inp.mask, self.loss_agg_mode, inp.global_tokens, inp.global_seqs,
                         self.max_response_length)
        return loss, {"vf_loss": float(loss.detach()), "vf_clipfrac": float(masked_mean(clipped, inp.mask))}

    def state_dict(self) -> dict:
        return {"kl_ctrl": self.controller.state_dict()}

    def load_state_dict(self, d: dict) -> None:
        self.controller.load_state_dict(d["kl_ctrl"])


@register
class SIREN(DrGRPO):
    """SIREN: Dr. GRPO + alpha·(H_sel - H_anchor)², H_anchor fixed at the first rollout step.

    H_sel is a statistic of the whole mini-batch. The learner first measures it in a no-grad pass
    (begin_minibatch); each micro-batch then adds the exact decomposition of the square: its share of the value
    plus 2(H - a)·(S_mb - stopgrad S_mb)/n, whose gradients sum to the gradient of (H - a)² over the mini-batch, so
    the update does not depend on the micro-batch size. Without that pass (a lone loss call) the micro-batch is
    taken as the mini-batch."""
    name = "siren"
    defaults = {**DrGRPO.defaults, "alpha": 0.005, "entropy_top_p": 0.8, "entropy_top_k": 10000,
                "mask_ratio": 0.8, "entropy_softmax_over": "vocab"}

    def validate(self) -> None:
        super().validate()
        self.anchor: float | None = None
        self.minibatch: tuple[float, int] | None = None  # (H_sel, sequences counted) of the current mini-batch

    @property
    def needs(self) -> Needs:
        return Needs(reference_model=self.kl_loss_coef > 0, full_logits=True, filter_groups=bool(self.filter_groups),
                     minibatch_statistic=True)

    def selected_sum(self, logits: Tensor, mask: Tensor) -> tuple[Tensor, int]:
        ent = top_p_entropy(logits, self.entropy_top_p, self.entropy_top_k, self.entropy_softmax_over)
        return selected_entropy_sum(ent, peak_entropy_mask(ent, mask, self.mask_ratio))

    def statistic_part(self, logits: Tensor, mask: Tensor) -> tuple[float, int]:
        total, n = self.selected_sum(logits, mask)
        return float(total), n

    def begin_minibatch(self, total: float | None, count: int) -> None:
        self.minibatch = None if total is None else ((total / count if count else 0.0), count)

    def wants_rollout_statistic(self) -> bool:
        return self.anchor is None  # measured once, at the first rollout step

    def on_rollout_statistic(self, total: float, count: int) -> None:
        if self.anchor is None:
            self.anchor = total / count if count else 0.0

    def loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        loss, metrics = super().loss(inp)
        if self.anchor is None:
            raise RuntimeError("siren: the entropy anchor is unset; the learner's scoring pass sets it "
                               "(on_rollout_statistic) before the first update")
        logits = require(inp.logits, "logits", self.name)
        if self.minibatch is None:
            raise RuntimeError("siren: the mini-batch's selected entropy is unset; the learner measures it "
                               "(begin_minibatch) before the micro-batch losses")
        h_value, n = self.minibatch
        part, n_mb = self.selected_sum(logits, inp.mask)
        gap = h_value - self.anchor
        # The value of alpha * (H_sel - anchor)^2 shared out by each micro-batch's sequences, and its exact gradient
        # 2 * gap * dH_sel (H_sel = sum of per-sequence parts / n), so micro-batches add up to the mini-batch's.
        penalty = (gap ** 2 * n_mb / n + 2.0 * gap * (part - part.detach()) / n) if n else part * 0.0
        loss = loss + self.alpha * penalty
        metrics.update({"entropy_selected": h_value, "entropy_anchor": self.anchor})
        return loss, metrics

    def state_dict(self) -> dict:
        return {"anchor": self.anchor}

    def load_state_dict(self, d: dict) -> None:
        self.anchor = d.get("anchor")


# ----------------------------------------------------------------------------------------------------------------
# NFT
# ----------------------------------------------------------------------------------------------------------------
@register
class NFT(Objective):
    """NFT (NVlabs/NFT): see nft.py. Aggregation: the code's constant normaliser (sum / 1000) by default,
    or any loss_agg_mode."""
    name = "nft"
    defaults = {"normalize": 1, "clamp_negative": 1.0, "neg_weight": 1.0, "loss_agg_mode": "constant",
                "constant_normalizer": 1000.0, "max_response_length": None, "clamp_r_hat_weight": True,
                "filter_groups": True}

    def validate(self) -> None:
        if self.loss_agg_mode not in ("constant", *AGG_MODES):
            raise ValueError(f"algorithm.loss_agg_mode='{self.loss_agg_mode}' unknown for nft; "
                             f"known: constant, {', '.join(AGG_MODES)}")

    @property
    def needs(self) -> Needs:
        return Needs(filter_groups=bool(self.filter_groups), binary_labels=True)

    def loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        mat = nft_token_loss(inp.logprobs, require(inp.old_logprobs, "old_logprobs", self.name),
                             require(inp.positive, "positive", self.name),
                             require(inp.group_accuracy, "group_accuracy", self.name), self.clamp_negative,
                             self.neg_weight, int(self.normalize), bool(self.clamp_r_hat_weight))
        if self.loss_agg_mode == "constant":
            loss = torch.where(inp.mask > 0, mat, torch.zeros_like(mat)).sum() / float(self.constant_normalizer)
        else:
            loss = aggregate(mat, inp.mask, self.loss_agg_mode, inp.global_tokens, inp.global_seqs,
                             self.max_response_length)
        return loss, {"nft_loss": float(loss.detach())}


# ----------------------------------------------------------------------------------------------------------------
# Supervised: SFT, DFT, ASFT on demonstrations; OSFT on own samples
# ----------------------------------------------------------------------------------------------------------------
@register
class SFT(Objective):
    """Token-mean NLL of the demonstrations over the whole mini-batch."""
    name = "sft"
    defaults = {"train_temperature": 1.0}

    @property
    def needs(self) -> Needs:
        return Needs(data="demonstrations", train_temperature=self.train_temperature)

    def token_loss(self, inp: LossInputs) -> Tensor:
        return nll_tokens(inp.logprobs)

    def loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        loss = aggregate(self.token_loss(inp), inp.mask, "token-mean", inp.global_tokens)
        return loss, {"nll": float(aggregate(-inp.logprobs.detach(), inp.mask, "token-mean"))}


@register
class DFT(SFT):
    """DFT: -sg(p)·log p. aggregation='global' (default, §12b.5) is one token-mean over the mini-batch;
    'micro_batch' is the code's per-micro-batch token-mean averaged over micro-batches (the micro-batch count is
    taken as global_seqs / this micro-batch's size, exact when micro-batches are equal)."""
    name = "dft"
    defaults = {**SFT.defaults, "aggregation": "global"}

    def validate(self) -> None:
        if self.aggregation not in ("global", "micro_batch"):
            raise ValueError(f"algorithm.aggregation must be 'global' or 'micro_batch', got '{self.aggregation}'")

    def token_loss(self, inp: LossInputs) -> Tensor:
        return dft_tokens(inp.logprobs)

    def loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        if self.aggregation == "global":
            return super().loss(inp)
        n_micro = max(float(inp.global_seqs), 1.0) / max(inp.mask.shape[0], 1)
        loss = aggregate(self.token_loss(inp), inp.mask, "token-mean") / n_micro
        return loss, {"nll": float(aggregate(-inp.logprobs.detach(), inp.mask, "token-mean"))}


@register
class ASFT(DFT):
    """ASFT: DFT + kl_weight·KL(pi_ref || pi_theta) over the full vocabulary at every supervised position
    (forward KL from the frozen base, the paper's Eq. 6 and the code's F.kl_div); lambda 0.05 (paper, math)."""
    name = "asft"
    defaults = {**DFT.defaults, "kl_weight": 0.05}

    @property
    def needs(self) -> Needs:
        return Needs(data="demonstrations", reference_model=True, full_logits=True,
                     train_temperature=self.train_temperature)

    def token_loss(self, inp: LossInputs) -> Tensor:
        kl = forward_kl_full(require(inp.logits, "logits", self.name), require(inp.ref_logits, "ref_logits", self.name))
        return dft_tokens(inp.logprobs) + self.kl_weight * kl


@register
class OSFT(SFT):
    """OSFT/SePT: token-mean NLL of one own sample per prompt drawn at rollout_temperature 0.6, trained at
    temperature 1 (tau_s < tau_t sharpens; equal temperatures give zero expected gradient). No reward."""
    name = "osft"
    defaults = {"train_temperature": 1.0, "samples_per_prompt": 1}

    @property
    def needs(self) -> Needs:
        return Needs(data="rollouts", train_temperature=self.train_temperature,
                     samples_per_prompt=int(self.samples_per_prompt))
