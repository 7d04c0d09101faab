"""The RLVR loop. One step = prompts -> rollouts -> verdicts -> rewards -> learner update -> weight sync -> metrics
-> checkpoint. Every objective runs through it; what differs is declared by the objective's `needs`:
rollouts with verdicts (GRPO, PPO, NSR/PSR, NFT, SIREN), rollouts without verdicts (OSFT), or demonstrations
(SFT, DFT, ASFT).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlvr.batch import TrainBatch
from rlvr.infra.env import apply_engine_env
from rlvr.data.prompts import PromptItem, build_prompt_source


class StaleWeightsError(RuntimeError):
    """The rollout engine's log-probs differ from the learner's after a weight sync."""


@dataclass
class Rollouts:
    items: list[PromptItem]     # one per group
    samples: list[list[Any]]    # [group][sample] engine Samples


def _ray():
    import ray

    return ray


class Trainer:
    def __init__(self, cfg: DictConfig, run_dir: str | Path, log=print):
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = log
        algorithm = OmegaConf.to_container(cfg.algorithm, resolve=True)
        from rlvr.algorithms import build_objective

        name = algorithm.pop("name")
        try:
            # The driver keeps its own stateless instance for `needs` and reward shaping.
            self.objective = build_objective(name, **algorithm)
        except TypeError as e:
            raise ValueError(f"algorithm={name}: {e}. Check the keys of conf/algorithm/{name}.yaml "
                             f"and your algorithm.* overrides") from None
        self.algorithm = {"name": name, **algorithm}
        self.needs = self.objective.needs
        self.rollout_temperature = float(algorithm.get("rollout_temperature", cfg.rollout.temperature))
        self.samples_per_prompt = self.needs.samples_per_prompt or cfg.rollout.n

    # ------------------------------------------------------------------------------------------------------ setup
    def resolve_model(self) -> tuple[str, dict]:
        """The model the run starts from: a given checkpoint, or the embedded tiny model (warm-started)."""
        cfg = self.cfg
        if cfg.model.path:
            return cfg.model.path, {}
        from rlvr.models.tiny import default_cache_dir, ensure_tiny_model

        cache = Path(cfg.model.cache_dir) if cfg.model.cache_dir else default_cache_dir()
        base = ensure_tiny_model(cfg.model.preset, cfg.model.seed, cache)
        if not cfg.model.warm_start.enabled:
            return str(base), {}
        from rlvr.models.warm_start import ensure_warm_start

        path, report = ensure_warm_start(base, cfg.model.warm_start, cfg.data, cache, device=cfg.trainer.device,
                                         log=self.log)
        return str(path), report

    def setup(self) -> None:
        ray = _ray()
        cfg = self.cfg
        if not ray.is_initialized():
            ray.init(address=cfg.cluster.address, num_cpus=cfg.cluster.num_cpus, num_gpus=cfg.cluster.num_gpus,
                     include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": apply_engine_env()})
        self.model_path, self.warm_report = self.resolve_model()
        from rlvr.learner.actor import LearnerActor
        from rlvr.rollout.worker import RolloutWorker
        from rlvr.learner.learner import LearnerSettings

        t = cfg.trainer
        settings = LearnerSettings(
            lr=t.lr, weight_decay=t.weight_decay, betas=tuple(t.betas), warmup_steps=t.warmup_steps,
            schedule=t.schedule, total_steps=t.steps, grad_clip=t.grad_clip, mini_batch_prompts=t.mini_batch_prompts,
            micro_batch_size=t.micro_batch_size, epochs=t.epochs, rollout_temperature=self.rollout_temperature,
            device=t.device, dtype=cfg.model.dtype, seed=t.seed,
            critic_lr=float(self.algorithm.get("critic_lr", 1e-5)),
            num_threads=int(cfg.cluster.num_cpus) if cfg.cluster.num_cpus else None)
        learner_cls = ray.remote(LearnerActor).options(num_cpus=cfg.cluster.learner_num_cpus,
                                                       num_gpus=cfg.cluster.learner_num_gpus)
        self.learner = learner_cls.remote(self.model_path, self.algorithm, settings)
        r = cfg.rollout
        engine_kwargs = {"dtype": r.dtype}
        if r.engine == "vllm":
            engine_kwargs.update(seed=t.seed, max_model_len=r.max_model_len,
                                 gpu_memory_utilization=r.gpu_memory_utilization)
        else:
            engine_kwargs.update(device="cuda" if r.num_gpus > 0 else "cpu")
        worker_cls = ray.remote(RolloutWorker).options(num_cpus=r.num_cpus, num_gpus=r.num_gpus, max_restarts=2)
        self.workers = [worker_cls.remote(r.engine, self.model_path, worker_index=i,
                                          num_threads=int(cfg.cluster.num_cpus) if cfg.cluster.num_cpus else None,
                                          **engine_kwargs) for i in range(r.num_workers)]
        self.verifier = self._build_verifier()
        from rlvr.reward.signals import build_reward_signal

        self.reward_signal = build_reward_signal(cfg.reward.name, **OmegaConf.to_container(cfg.reward.params))
        self.source = build_prompt_source(cfg.data, heldout_size=t.eval_size, model_path=self.model_path)
        ray.get([w.ping.remote() for w in self.workers] + [self.learner.named_weights.remote()])
        # The fixed sequence the sync check scores: the first held-out prompt with its reference answer.
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        first = self.source.heldout[0]
        self.sync_probe = (self.tokenizer(first.prompt)["input_ids"]
                           + self.tokenizer(first.demonstration("answer"), add_special_tokens=False)["input_ids"])

    def _build_verifier(self):
        vcfg = self.cfg.reward.verifier
        options = {"mode": vcfg.mode} if vcfg.mode != "default" else {}
        if vcfg.use_ray_actor:
            from rlvr_verify.service import VerifierService

            actor = VerifierService.options(num_cpus=self.cfg.cluster.verifier_num_cpus).remote(
                num_workers=vcfg.num_workers, timeout_s=vcfg.timeout_s)
            return _RemoteVerifier(actor, options)
        from rlvr_verify.service import LocalVerifierService

        return _LocalVerifier(LocalVerifierService(num_workers=vcfg.num_workers, timeout_s=vcfg.timeout_s), options)

    # ------------------------------------------------------------------------------------------------- rollouts
    def generate(self, prompts: list[str], n: int, temperature: float, seed: int, max_tokens: int | None = None):
        """Shard prompts across workers; a worker that died is restarted by Ray, re-synced and its shard retried."""
        ray = _ray()
        r = self.cfg.rollout
        k = len(self.workers)
        shards = [list(range(i, len(prompts), k)) for i in range(k)]
        args = dict(n=n, temperature=temperature, top_p=r.top_p, max_tokens=max_tokens or r.max_tokens)
        futures = [(i, w.generate.remote([prompts[j] for j in shard], seed=seed + i * 100_003, **args))
                   for i, (w, shard) in enumerate(zip(self.workers, shards)) if shard]
        out: list[Any] = [None] * len(prompts)
        for i, fut in futures:
            try:
                groups = ray.get(fut)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                self.log(f"rollout worker {i} died; Ray restarts it; re-syncing weights and retrying its shard")
                self.counters["worker_restarts"] = self.counters.get("worker_restarts", 0) + 1
                self._wait_until_alive(self.workers[i])
                ray.get(self.workers[i].update_weights.remote(self._weights_ref))
                groups = ray.get(self.workers[i].generate.remote([prompts[j] for j in shards[i]],
                                                                 seed=seed + i * 100_003, **args))
            for j, g in zip(shards[i], groups):
                out[j] = g
        return out

    @staticmethod
    def _wait_until_alive(actor, timeout_s: float = 300.0) -> None:
        """Block until a restarting actor answers (its constructor reloads the model), or give up loudly."""
        ray = _ray()
        deadline = time.time() + timeout_s
        while True:
            try:
                ray.get(actor.ping.remote(), timeout=30)
                return
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                    ray.exceptions.GetTimeoutError):
                if time.time() > deadline:
                    raise RuntimeError(f"a rollout worker did not come back within {timeout_s:.0f} s after dying; "
                                       f"see the Ray logs (/tmp/ray/session_latest/logs)") from None
                time.sleep(1.0)

    def verify(self, responses: list[str], golds: list[str]):
        return self.verifier.verify_batch(responses, golds)

    def rollout_step(self, step: int) -> tuple[Rollouts, list, dict]:
        """Sample, verify; with dynamic sampling (DAPO/NFT) keep only groups whose verdicts differ, refilling
        from extra prompt draws for up to trainer.max_dynamic_sampling_rounds rounds."""
        want = self.cfg.rollout.prompts_per_step
        kept_items, kept_samples, kept_verdicts = [], [], []
        stats = {"generated_groups": 0, "generate_s": 0.0, "verify_s": 0.0, "generated_tokens": 0}
        rounds = 1 + (self.cfg.trainer.max_dynamic_sampling_rounds if self.needs.filter_groups else 0)
        for round_ in range(rounds):
            items = self.source.batch(step, want, round_)
            t0 = time.time()
            seed = (self.cfg.trainer.seed * 1_000_003 + step * 101 + round_) * 7
            groups = self.generate([it.prompt for it in items], self.samples_per_prompt, self.rollout_temperature,
                                   seed)
            t1 = time.time()
            responses = [s.text for g in groups for s in g]
            golds = [it.gold for it, g in zip(items, groups) for _ in g]
            verdicts = self.verify(responses, golds)
            t2 = time.time()
            stats["generate_s"] += t1 - t0
            stats["verify_s"] += t2 - t1
            stats["generated_groups"] += len(items)
            stats["generated_tokens"] += sum(len(s.token_ids) for g in groups for s in g)
            G = self.samples_per_prompt
            for gi, (it, g) in enumerate(zip(items, groups)):
                v = verdicts[gi * G:(gi + 1) * G]
                if self.needs.filter_groups and len({x.correct for x in v}) == 1:
                    continue
                kept_items.append(it)
                kept_samples.append(g)
                kept_verdicts.extend(v)
            if len(kept_items) >= want:
                break
        G = self.samples_per_prompt
        kept_items, kept_samples, kept_verdicts = kept_items[:want], kept_samples[:want], kept_verdicts[:want * G]
        stats["kept_groups"] = len(kept_items)
        return Rollouts(kept_items, kept_samples), kept_verdicts, stats

    def build_train_batch(self, step: int, ro: Rollouts, verdicts) -> tuple[TrainBatch, dict]:
        from rlvr.reward.signals import RewardInputs

        samples = [s for g in ro.samples for s in g]
        group_ids = [gi for gi, g in enumerate(ro.samples) for _ in g]
        golds = [ro.items[gi].gold for gi in group_ids]
        truncated = [s.truncated for s in samples]
        out = self.reward_signal(RewardInputs(
            responses=[s.text for s in samples], golds=golds, group_ids=group_ids, truncated=truncated,
            verdicts=verdicts, step=step, verify_fn=self.verify))
        rewards = [float(x) for x in out.rewards]
        shape = getattr(self.objective, "shape_rewards", None)
        if shape is not None:
            rewards = [float(x) for x in shape(rewards, [len(s.token_ids) for s in samples], truncated)]
        batch = TrainBatch(prompt_ids=[s.prompt_token_ids for s in samples],
                           response_ids=[s.token_ids for s in samples], group_ids=group_ids,
                           sampling_logprobs=[s.logprobs for s in samples], truncated=truncated,
                           rewards=rewards, correct=[bool(c) for c in out.correct])
        metrics = {"reward_mean": sum(rewards) / max(1, len(rewards)),
                   "accuracy": sum(batch.correct) / max(1, len(batch.correct)),
                   "response_length": sum(len(s.token_ids) for s in samples) / max(1, len(samples)),
                   "truncated_fraction": sum(truncated) / max(1, len(truncated)),
                   **{f"reward/{k}": v for k, v in out.metrics.items()}}
        return batch, metrics

    def demonstration_batch(self, step: int) -> TrainBatch:
        tok = self.tokenizer
        items = self.source.batch(step, self.cfg.rollout.prompts_per_step)
        return TrainBatch(
            prompt_ids=[tok(it.prompt)["input_ids"] for it in items],
            response_ids=[tok(it.demonstration(self.cfg.data.solution_format), add_special_tokens=False)["input_ids"]
                          + [tok.eos_token_id] for it in items],
            group_ids=list(range(len(items))))

    # ------------------------------------------------------------------------------------------ sync and eval
    def sync_weights(self) -> float:
        """Push the learner's weights to every worker, then prove they arrived (see check_sync)."""
        ray = _ray()
        self._weights_ref = self.learner.named_weights.remote()
        ray.get([w.update_weights.remote(self._weights_ref) for w in self.workers])
        return self.check_sync() if self.cfg.trainer.sync_check else float("nan")

    def check_sync(self) -> float:
        """Log-probs of a fixed sequence from every worker must equal the learner's; returns the worst error."""
        ray = _ray()
        ref = ray.get(self.learner.score.remote([self.sync_probe]))[0]
        worst = 0.0
        for i, got in enumerate(ray.get([w.score.remote([self.sync_probe]) for w in self.workers])):
            err = max(abs(a - b) for a, b in zip(ref, got[0]))
            worst = max(worst, err)
            if not err <= self.cfg.trainer.sync_tolerance:
                raise StaleWeightsError(
                    f"after the weight sync, rollout worker {i}'s log-probs differ from the learner's by {err:.2e} "
                    f"(> trainer.sync_tolerance={self.cfg.trainer.sync_tolerance}): the engine is serving stale or "
                    f"wrong weights, so further rollouts would be off-policy garbage. Check that every tensor of the "
                    f"state dict (lm_head.weight included) reaches the engine, and the engine/learner dtypes.")
        return worst

    def heldout_accuracy(self) -> float:
        items = self.source.heldout
        groups = self.generate([it.prompt for it in items], 1, 0.0, seed=0)
        verdicts = self.verify([g[0].text for g in groups], [it.gold for it in items])
        return sum(v.correct for v in verdicts) / max(1, len(items))

    # ----------------------------------------------------------------------------------------------- the loop
    def close(self) -> None:
        """Kill this run's actors (their CPUs/GPUs go back to the cluster)."""
        ray = _ray()
        for actor in [getattr(self, "learner", None), *getattr(self, "workers", [])]:
            if actor is not None:
                ray.kill(actor)
        if hasattr(self.verifier, "close"):
            self.verifier.close()

    def run(self, close: bool = True) -> dict:
        ray = _ray()
        from rlvr.infra.checkpoint import latest_checkpoint
        from rlvr.infra.run_logging import RunLogger, plot_metrics

        cfg, t = self.cfg, self.cfg.trainer
        (self.run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        self.setup()
        self.counters: dict[str, int] = {}
        start_step, state = 0, {}
        ckpt = None
        if t.resume == "auto":
            ckpt = latest_checkpoint(self.run_dir)
        elif t.resume not in ("never", "", None):
            ckpt = Path(t.resume)
        if ckpt is not None:
            state = ray.get(self.learner.load.remote(str(ckpt)))
            start_step = int(state["step"])
            self.log(f"resumed from {ckpt} at step {start_step}")
        self.sync_weights()
        logger = RunLogger(self.run_dir, project=cfg.logger.project, wandb_mode=cfg.logger.wandb_mode,
                           config=OmegaConf.to_container(cfg, resolve=True), total_steps=t.steps,
                           resume_step=start_step)
        initial_acc = state.get("initial_heldout_accuracy")
        if initial_acc is None:
            initial_acc = self.heldout_accuracy()
            logger.log(0, {"heldout_accuracy": initial_acc})
        last_acc = state.get("last_heldout_accuracy", initial_acc)
        step = start_step
        # RL-Extra anchors: the weights at the start of the current M-step window (not restored on resume).
        anchor = ray.get(self.learner.named_weights.remote()) if t.extrapolate_every else None
        try:
            for step in range(start_step, t.steps):
                metrics = self.train_step(step)
                if t.extrapolate_every and (step + 1) % t.extrapolate_every == 0:
                    anchor = self._rl_extra(anchor, metrics)
                if (step + 1) % t.eval_every == 0 or step + 1 == t.steps:
                    last_acc = metrics["heldout_accuracy"] = self.heldout_accuracy()
                logger.log(step + 1, metrics)
                if (step + 1) % t.checkpoint_every == 0 or step + 1 == t.steps:
                    self._checkpoint(step + 1, initial_acc, last_acc)
        except KeyboardInterrupt:
            self.log(f"interrupted at step {step}: writing a final checkpoint of the {step} completed steps")
            if step > start_step:
                self._checkpoint(step, initial_acc, last_acc)
            raise
        finally:
            logger.close()
            if close:
                self.close()
        summary = {"run_dir": str(self.run_dir), "steps": t.steps, "initial_heldout_accuracy": initial_acc,
                   "final_heldout_accuracy": last_acc, "warm_start": self.warm_report,
                   "model_path": self.model_path, **{f"counter/{k}": v for k, v in self.counters.items()}}
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=1))
        plot_metrics(self.run_dir / "metrics.jsonl", self.run_dir / "curves.png")
        return summary

    def train_step(self, step: int) -> dict:
        ray = _ray()
        t_start = time.time()
        metrics: dict[str, float] = {}
        if self.needs.data == "demonstrations":
            batch = self.demonstration_batch(step)
            gen = {"generate_s": 0.0, "verify_s": 0.0, "generated_tokens": 0}
        else:
            ro, verdicts, gen = self.rollout_step(step)
            if not ro.items:
                self.log(f"step {step}: every group was filtered (all verdicts equal); no update this step")
                return {"skipped": 1.0, "time/generate_s": gen["generate_s"], "time/verify_s": gen["verify_s"]}
            batch, rm = self.build_train_batch(step, ro, verdicts)
            metrics.update(rm)
            metrics["kept_group_fraction"] = gen["kept_groups"] / max(1, gen["generated_groups"])
        t_learn = time.time()
        metrics.update(ray.get(self.learner.update.remote(batch, step)))
        t_sync = time.time()
        metrics["sync_max_logprob_error"] = self.sync_weights()
        t_end = time.time()
        metrics.update({"time/generate_s": gen["generate_s"], "time/verify_s": gen["verify_s"],
                        "time/learn_s": t_sync - t_learn, "time/sync_s": t_end - t_sync,
                        "time/step_s": t_end - t_start,
                        "tokens_per_s": gen["generated_tokens"] / gen["generate_s"] if gen["generate_s"] else 0.0})
        if hasattr(self.verifier, "metrics"):
            metrics.update({k: float(v) for k, v in self.verifier.metrics().items()})
        return {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}

    def _rl_extra(self, anchor, metrics):
        """RL-Extra (docs/ALGORITHMS.md 9): every M real steps, extrapolate from the last anchor forward by alpha."""
        ray = _ray()
        from rlvr.tools.extrapolate import extrapolate_state_dicts

        current = ray.get(self.learner.named_weights.remote())
        new = extrapolate_state_dicts(anchor, current, self.cfg.trainer.extrapolate_alpha)
        ray.get(self.learner.load_weights.remote(new))
        self.sync_weights()
        metrics["rl_extra_applied"] = 1.0
        return new

    def _checkpoint(self, step: int, initial_acc: float, last_acc: float) -> None:
        ray = _ray()
        state = {"step": step, "data_cursor": step, "initial_heldout_accuracy": initial_acc,
                 "last_heldout_accuracy": last_acc}
        path = ray.get(self.learner.save.remote(str(self.run_dir), step, state, self.cfg.trainer.keep_checkpoints))
        self.log(f"checkpoint: {path}")


class _RemoteVerifier:
    def __init__(self, actor, options):
        self.actor, self.options = actor, options

    def verify_batch(self, responses, golds):
        return _ray().get(self.actor.verify_batch.remote(responses, golds, **self.options))

    def metrics(self):
        return _ray().get(self.actor.metrics.remote())

    def close(self):
        _ray().kill(self.actor)


class _LocalVerifier:
    def __init__(self, service, options):
        self.service, self.options = service, options

    def verify_batch(self, responses, golds):
        return self.service.verify_batch(responses, golds, **self.options)

    def metrics(self):
        return self.service.metrics()

    def close(self):
        if hasattr(self.service, "close"):
            self.service.close()
