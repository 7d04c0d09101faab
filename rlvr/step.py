"""The data path of one training step, in order:

    prompts -> rollouts (engines, sharded) -> verdicts (verifier) -> rewards (reward signal) -> [dynamic sampling]
    -> the learner's no-grad scoring pass -> advantages (here, on the driver) -> the learner's update
    -> weight sync to the engines -> the sync check.

What differs between objectives is declared by the objective's `needs` (rollouts with rewards, rollouts without,
demonstrations; reference model, critic, group filtering, binary labels); this module never branches on a name.
The outer loop (rlvr.loop.train, around rlvr.run.Run) keeps the cadence: eval, checkpoints, logging, resume.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from rlvr.algorithms import AdvantageInputs, Objective
from rlvr.algorithms.aggregation import masked_mean
from rlvr.algorithms.kl import k3
from rlvr.algorithms.policy_loss import truncated_importance_weights
from rlvr.batch import TrainBatch, group_positive_rate, padded_sampling_logprobs, response_columns
from rlvr.config_checks import ConfigError
from rlvr.data.prompts import PromptItem
from rlvr.infra.lazy_ray import lazy_ray
from rlvr.reward.signals import RewardInputs


class StaleWeightsError(RuntimeError):
    """The rollout engine's log-probs differ from the learner's after a weight sync."""


@dataclass
class StepParts:
    """Everything one step touches, built once by rlvr.run.Run.start."""
    cfg: Any
    objective: Objective
    learner: Any                  # LearnerActor handle
    engines: Any                  # ActorGroup of RolloutWorker
    weight_sync: Any              # rlvr.weight_sync.WeightSync
    verifier: Any                 # rlvr.reward.verifier_client
    reward_signal: Any
    source: Any                   # rlvr.data.prompts.PromptSource
    tokenizer: Any
    sync_probe: list[int]         # a fixed token sequence both sides score after every sync
    log: Any = print
    counters: dict[str, int] = field(default_factory=dict)
    policy_version: int = 0       # updates the learner's weights have received (optimizer steps, RL-Extra jumps)


def rollout_temperature(cfg) -> float:
    """The sampling temperature: the algorithm's own (e.g. OSFT's) when it sets one, else rollout.temperature."""
    value = cfg.algorithm.get("rollout_temperature")
    return float(value if value is not None else cfg.rollout.temperature)


def check_sleep_level(rollout) -> int:
    """rollout.sleep_level, refused where it cannot work (checked before any actor starts)."""
    level = int(rollout.get("sleep_level", 0))
    if level and int(rollout.get("async_steps", 0)):
        raise ConfigError(f"rollout.sleep_level={level} needs rollout.async_steps=0: in async mode the engines "
                         f"generate while the learner trains, so there is no idle phase to sleep through")
    if level and rollout.engine != "hf":
        raise ConfigError(f"rollout.sleep_level={level} is implemented for rollout.engine=hf only; vLLM's sleep mode "
                         f"(CUDA memory) is not wired in yet. Set rollout.sleep_level=0 or rollout.engine=hf")
    return level


class StepRunner:
    def __init__(self, parts: StepParts):
        self.p = parts
        cfg = parts.cfg
        needs = parts.objective.needs
        self.needs = needs
        self.samples_per_prompt = needs.samples_per_prompt or cfg.rollout.n
        self.rollout_temperature = rollout_temperature(cfg)
        self.async_steps = int(cfg.rollout.get("async_steps", 0))
        self.prefetched: dict[int, Any] = {}  # step -> its first rollout round, started early (async mode)
        self.syncs = 0                        # weight syncs this process has made (sync_check_every counts them)
        self.sleep_level = check_sleep_level(cfg.rollout)

    def prefetch(self, next_step: int) -> None:
        """Async mode: start the first rollout rounds of the next async_steps steps now, from the weights the
        engines hold, so that they run while the learner learns (the engines apply the coming weight sync after
        them: Ray runs an actor's calls in order). Each batch is then at most async_steps versions old."""
        last = min(next_step + self.async_steps, int(self.p.cfg.trainer.steps))
        for s in range(next_step, last):
            if s not in self.prefetched:
                self.prefetched[s] = self.submit_round(s, 0)

    # ------------------------------------------------------------------------------------------------- rollouts
    def generate(self, prompts: list[str], n: int, temperature: float, seed: int,
                 max_tokens: int | None = None) -> tuple[list[Any], int]:
        """Sample n responses per prompt, prompts sharded across the engines. Returns the groups in prompt order and
        the policy_version that sampled them (a restarted engine is re-synced before its shard is retried)."""
        return self.finish_generate(self.submit_generate(prompts, n, temperature, seed, max_tokens))

    def submit_generate(self, prompts: list[str], n: int, temperature: float, seed: int,
                        max_tokens: int | None = None) -> tuple[int, Any]:
        """Start sampling without waiting (async mode overlaps it with learning); finish_generate collects it."""
        r = self.p.cfg.rollout
        args = dict(n=n, temperature=temperature, top_p=r.top_p, max_tokens=max_tokens or r.max_tokens)
        return len(prompts), self.p.engines.submit_shards("generate", prompts,
                                                          lambda rank: {**args, "seed": seed + rank * 100_003})

    def finish_generate(self, submitted: tuple[int, Any]) -> tuple[list[Any], int]:
        num_prompts, calls = submitted

        def on_restart(rank: int) -> None:
            self.p.log(f"rollout worker {rank} died; Ray restarted it; re-syncing its weights and retrying its shard")
            self.p.counters["worker_restarts"] = self.p.counters.get("worker_restarts", 0) + 1
            self.p.weight_sync.push_to(self.p.learner, self.p.engines, rank, self.p.policy_version)

        results = self.p.engines.gather_shards(calls, on_restart=on_restart)
        out: list[Any] = [None] * num_prompts
        versions = set()
        for _, shard, res in results:
            versions.add(res["policy_version"])
            for j, g in zip(shard, res["groups"]):
                out[j] = g
        if len(versions) > 1:
            raise StaleWeightsError(f"rollout engines sampled with different policy versions {sorted(versions)}; "
                                    "a weight sync did not reach every engine")
        return out, versions.pop() if versions else self.p.policy_version

    def verify(self, responses: list[str], golds: list[str]):
        return self.p.verifier.verify_batch(responses, golds)

    def submit_round(self, step: int, round_: int = 0) -> tuple[list[PromptItem], Any, float]:
        """Draw a round's prompts and start sampling them (seeded by step and round, so a resume redraws them)."""
        cfg = self.p.cfg
        items = self.p.source.batch(step, cfg.rollout.prompts_per_step, round_)
        seed = (cfg.trainer.seed * 1_000_003 + step * 101 + round_) * 7
        return items, self.submit_generate([it.prompt for it in items], self.samples_per_prompt,
                                           self.rollout_temperature, seed), time.time()

    def collect(self, step: int, first_round=None) -> tuple[TrainBatch | None, dict[str, float], dict[str, float]]:
        """Rollouts with rewards (the first round may have been started earlier: async mode). With dynamic
        sampling (DAPO/NFT) only groups whose rewards differ are kept, refilled from extra prompt draws for up to
        trainer.max_dynamic_sampling_rounds rounds. The batch's policy_version is its oldest round's."""
        cfg, G = self.p.cfg, self.samples_per_prompt
        want = cfg.rollout.prompts_per_step
        kept: list[tuple[PromptItem, list, list, Any]] = []  # (item, samples, verdicts, reward rows)
        stats = {"generated_groups": 0, "generate_s": 0.0, "verify_s": 0.0, "generated_tokens": 0}
        rounds = 1 + (cfg.trainer.max_dynamic_sampling_rounds if self.needs.filter_groups else 0)
        versions = []
        for round_ in range(rounds):
            items, submitted, t0 = first_round if (round_ == 0 and first_round) else self.submit_round(step, round_)
            groups, version = self.finish_generate(submitted)
            versions.append(version)
            t1 = time.time()
            samples = [s for g in groups for s in g]
            golds = [it.gold for it, g in zip(items, groups) for _ in g]
            verdicts = self.verify([s.text for s in samples], golds)
            stats["verify_s"] += time.time() - t1
            stats["generate_s"] += t1 - t0
            stats["generated_groups"] += len(items)
            stats["generated_tokens"] += sum(len(s.token_ids) for s in samples)
            out = self.p.reward_signal(RewardInputs(
                responses=[s.text for s in samples], golds=golds, group_ids=[gi for gi, g in enumerate(groups)
                                                                            for _ in g],
                truncated=[s.truncated for s in samples], verdicts=verdicts, step=step, verify_fn=self.verify,
                draw=round_))
            for gi, (it, g) in enumerate(zip(items, groups)):
                rows = slice(gi * G, (gi + 1) * G)
                if any(getattr(v, "error", False) for v in verdicts[rows]):  # the verifier gave no verdict for a
                    stats["error_groups"] = stats.get("error_groups", 0) + 1  # sample: its group's statistics would
                    continue                                                  # count a crash as a wrong answer
                if cfg.trainer.log_problems:  # every verified group, filtered or not: the problem's accuracy
                    stats.setdefault("problems", []).append(
                        {"id": it.id, "round": round_, "correct": int(sum(bool(x) for x in out.correct[rows])),
                         "samples": len(g)})
                if self.needs.filter_groups and len(set(out.rewards[rows].tolist())) == 1:
                    continue
                kept.append((it, g, verdicts[rows], (out, rows)))
            if len(kept) >= want:
                break
        kept = kept[:want]
        stats["kept_groups"] = len(kept)
        if not kept:
            return None, {}, stats
        batch, metrics = self._rollout_batch(kept, min(versions))
        metrics["kept_group_fraction"] = len(kept) / max(1, stats["generated_groups"])
        metrics["verifier_error_groups_dropped"] = float(stats.get("error_groups", 0))
        return batch, metrics, stats

    def _rollout_batch(self, kept, version: int) -> tuple[TrainBatch, dict[str, float]]:
        samples = [s for _, g, _, _ in kept for s in g]
        group_ids = [gi for gi, (_, g, _, _) in enumerate(kept) for _ in g]
        rewards = [float(x) for _, _, _, (out, rows) in kept for x in out.rewards[rows]]
        correct = [bool(x) for _, _, _, (out, rows) in kept for x in out.correct[rows]]
        positive = ([bool(x) for _, _, _, (out, rows) in kept for x in out.positive[rows]]
                    if kept[0][3][0].positive is not None else [])
        truncated = [s.truncated for s in samples]
        shape = getattr(self.p.objective, "shape_rewards", None)
        if shape is not None:
            rewards = [float(x) for x in shape(rewards, [len(s.token_ids) for s in samples], truncated)]
        batch = TrainBatch(prompt_ids=[s.prompt_token_ids for s in samples],
                           response_ids=[s.token_ids for s in samples], group_ids=group_ids,
                           sampling_logprobs=[s.logprobs for s in samples], truncated=truncated,
                           rewards=rewards, correct=correct, positive=positive, policy_version=version)
        n = max(1, len(samples))
        metrics = {"reward_mean": sum(rewards) / n, "accuracy": sum(correct) / n,
                   "response_length": sum(len(s.token_ids) for s in samples) / n,
                   "truncated_fraction": sum(truncated) / n, "policy_version": float(version)}
        # Dr. GRPO's length bias shows in the wrong responses' length (only steps that have some are logged).
        for name, want in (("response_length_correct", True), ("response_length_incorrect", False)):
            lengths = [len(s.token_ids) for s, c in zip(samples, correct) if c == want]
            if lengths:
                metrics[name] = sum(lengths) / len(lengths)
        reward_metrics: dict[str, list[float]] = {}
        for _, _, _, (out, _) in kept:
            for k, v in out.metrics.items():
                reward_metrics.setdefault(k, []).append(v)
        metrics.update({f"reward/{k}": sum(v) / len(v) for k, v in reward_metrics.items()})
        return batch, metrics

    def demonstration_batch(self, step: int) -> TrainBatch:
        tok, cfg = self.p.tokenizer, self.p.cfg
        items = self.p.source.batch(step, cfg.rollout.prompts_per_step)
        return TrainBatch(
            prompt_ids=[tok(it.prompt)["input_ids"] for it in items],
            response_ids=[tok(it.demonstration(cfg.data.solution_format), add_special_tokens=False)["input_ids"]
                          + [tok.eos_token_id] for it in items],
            group_ids=list(range(len(items))), policy_version=self.p.policy_version)

    # ---------------------------------------------------------------------------------------------- advantages
    def add_advantages(self, batch: TrainBatch) -> dict[str, float]:
        """The learner's no-grad pass (old/reference log-probs, values) where the update cannot do without it, then
        the advantages, here on the driver."""
        scores = {}
        if scoring_pass_needed(self.p.objective, self.p.cfg):
            scores = lazy_ray().get(self.p.learner.score_rollouts.remote(batch, self.p.objective))
        return finish_batch(batch, self.p.objective, scores, self.p.cfg.trainer.is_cap)

    # ---------------------------------------------------------------------------------------------------- sync
    def sync_weights(self) -> float:
        """Push the learner's weights to every engine as the current policy_version, then prove they arrived (on
        the run's first sync and every trainer.sync_check_every-th after it; NaN when not checked)."""
        t = self.p.cfg.trainer
        self.p.weight_sync.push(self.p.learner, self.p.engines, self.p.policy_version)
        self.syncs += 1
        due = self.syncs == 1 or (self.syncs - 1) % t.sync_check_every == 0
        return self.check_sync() if t.sync_check and due else float("nan")

    def check_sync(self) -> float:
        """Log-probs of a fixed sequence from every engine must equal the learner's; returns the worst error."""
        ray = lazy_ray()
        tol = self.p.cfg.trainer.sync_tolerance
        ref = ray.get(self.p.learner.score.remote([self.p.sync_probe]))[0]
        worst = 0.0
        for i, got in enumerate(self.p.engines.call_all("score", [self.p.sync_probe])):
            err = max(abs(a - b) for a, b in zip(ref, got[0]))
            worst = max(worst, err)
            if not err <= tol:
                raise StaleWeightsError(
                    f"after the weight sync, rollout worker {i}'s log-probs differ from the learner's by {err:.2e} "
                    f"(> trainer.sync_tolerance={tol}): the engine is serving stale or wrong weights, so further "
                    f"rollouts would be off-policy garbage. Check that every tensor of the state dict (lm_head.weight "
                    f"included) reaches the engine, and the engine/learner dtypes.")
        return worst

    # ------------------------------------------------------------------------------------------------ one step
    def __call__(self, step: int) -> dict[str, float]:
        ray = lazy_ray()
        t_start = time.time()
        metrics: dict[str, float] = {}
        if self.needs.data == "demonstrations":
            batch = self.demonstration_batch(step)
            gen = {"generate_s": 0.0, "verify_s": 0.0, "generated_tokens": 0}
        else:
            batch, rollout_metrics, gen = self.collect(step, self.prefetched.pop(step, None))
            self.prefetch(step + 1)
            if batch is None:
                self.p.log(f"step {step}: every group was filtered (all rewards equal); no update this step")
                return {"skipped": 1.0, "time/generate_s": gen["generate_s"], "time/verify_s": gen["verify_s"],
                        **({"problems": gen["problems"]} if "problems" in gen else {})}
            if "problems" in gen:
                metrics["problems"] = gen["problems"]  # the loop writes it to problems.jsonl, not to the metrics
            metrics.update(rollout_metrics)
            metrics["staleness"] = float(self.p.policy_version - batch.policy_version)
            if metrics["staleness"] > self.async_steps:
                raise StaleWeightsError(f"a rollout batch is {metrics['staleness']:.0f} policy versions old, more "
                                        f"than rollout.async_steps={self.async_steps} allows")
        if self.sleep_level:  # colocated: the engines' memory goes to the learner until the weight sync
            metrics["engine_released_gb"] = sum(self.p.engines.call_all("sleep", self.sleep_level)) / 1e9
        t_learn = time.time()
        if self.needs.data != "demonstrations":
            metrics.update(self.add_advantages(batch))
        metrics.update(ray.get(self.p.learner.update.remote(batch, step, self.p.objective)))
        self.p.policy_version += 1
        t_sync = time.time()
        if self.sleep_level:
            self.p.engines.call_all("wake_up")
        metrics["sync_max_logprob_error"] = self.sync_weights()
        t_end = time.time()
        metrics.update({"time/generate_s": gen["generate_s"], "time/verify_s": gen["verify_s"],
                        "time/learn_s": t_sync - t_learn, "time/sync_s": t_end - t_sync,
                        "time/step_s": t_end - t_start,
                        "tokens_per_s": gen["generated_tokens"] / gen["generate_s"] if gen["generate_s"] else 0.0})
        metrics.update({k: float(v) for k, v in self.p.verifier.metrics().items()})
        return {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}


def scoring_pass_needed(objective: Objective, cfg) -> bool:
    """Whether the learner scores the rollouts in a pass of its own before the update. Not when the update is one
    optimizer step (one mini-batch, one epoch) and nothing reads the old policy before it (a reference, a critic, a
    rollout statistic or hook): its own forward then runs the same weights on the same micro-batches, so its
    detached log-probs are the old ones bit for bit (TRL's num_iterations=1 path; learner.reuse_update_forward)."""
    learner, needs = cfg.learner, objective.needs
    one_step = learner.epochs == 1 and (not learner.mini_batch_prompts
                                        or learner.mini_batch_prompts >= cfg.rollout.prompts_per_step)
    return not (learner.reuse_update_forward and one_step and not needs.reference_model and not needs.critic
                and not objective.wants_rollout_statistic()
                and type(objective).on_rollout is Objective.on_rollout)


def finish_batch(batch: TrainBatch, objective: Objective, scores: dict[str, Any],
                 is_cap: float | None = None) -> dict[str, float]:
    """Fill a rollout batch for the update from the learner's scoring pass (Learner.score_rollouts): old/reference
    log-probs, values, then the objective's advantages and returns, computed once, on the driver. The objective's
    state (PPO's KL controller, SIREN's anchor) lives in this one copy. With is_cap, truncated importance weights
    between the learner's and the sampler's log-probs (trainer.is_cap). Returns the rollout-side metrics.

    Without a scoring pass (`scores` empty: scoring_pass_needed), only the advantages: the update takes the old
    log-probs from its own forward and computes the importance weights and their metrics there."""
    if not scores:
        _advantages(batch, objective)
        return {}
    objective.load_state_dict(scores["objective_state"])
    batch.old_logprobs = scores["old_logprobs"]
    batch.ref_logprobs = scores.get("ref_logprobs")
    batch.values = scores.get("values")
    mask = _advantages(batch, objective)
    metrics = {}
    sampled = padded_sampling_logprobs(batch, batch.old_logprobs.shape[1])
    if sampled is not None:
        metrics["rollout_learner_logprob_diff"] = float(masked_mean((sampled - batch.old_logprobs).abs(), mask))
        if is_cap and objective.importance_weighted:
            batch.is_weights = truncated_importance_weights(batch.old_logprobs, sampled, is_cap) * mask
            metrics["is_weight_mean"] = float(masked_mean(batch.is_weights, mask))
            metrics["is_weight_capped_fraction"] = float(masked_mean((batch.is_weights >= is_cap).float(), mask))
    if batch.ref_logprobs is not None:
        metrics["kl_ref_k3"] = float(masked_mean(k3(batch.old_logprobs, batch.ref_logprobs), mask))
    return metrics


def _advantages(batch: TrainBatch, objective: Objective) -> torch.Tensor:
    """The objective's advantages and returns (and NFT's group rate) into `batch`; the response mask back."""
    lengths = torch.tensor([len(r) for r in batch.response_ids])
    mask = (torch.arange(response_columns(batch))[None, :] < lengths[:, None]).float()
    batch.advantages, batch.returns = objective.compute_advantages(AdvantageInputs(
        rewards=torch.tensor(batch.rewards, dtype=torch.float32),
        positive=torch.tensor(batch.positive, dtype=torch.bool) if batch.positive else None,
        group_ids=torch.tensor(batch.group_ids, dtype=torch.long), mask=mask, response_lengths=lengths,
        truncated=torch.tensor(batch.truncated or [False] * len(batch), dtype=torch.bool),
        old_logprobs=batch.old_logprobs, ref_logprobs=batch.ref_logprobs, values=batch.values))
    if batch.positive:
        batch.group_accuracy = group_positive_rate(batch.group_ids, batch.positive)
    return mask
