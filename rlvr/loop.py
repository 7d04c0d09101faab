"""The outer loop: builds the run's parts once (setup), then keeps the cadence around rlvr.step's data path:
held-out evaluation, checkpoints, logging, resume, RL-Extra. One step's data path lives in rlvr/step.py.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from rlvr.algorithms import Objective, build_objective
from rlvr.config import apply_seed_scope
from rlvr.config_checks import ConfigError, check_run_config, check_run_dir
from rlvr.data.prompts import build_prompt_source
from rlvr.heldout import mean_accuracy, score_heldout
from rlvr.infra.lazy_ray import lazy_ray
from rlvr.infra.ray_start import role_options, start_ray
from rlvr.step import StaleWeightsError, StepParts, StepRunner, check_sleep_level, rollout_temperature

__all__ = ["StaleWeightsError", "Trainer", "build_run_objective"]


def build_run_objective(cfg: DictConfig) -> Objective:
    """The run's one objective instance (the driver's; learners receive it by value), from conf/algorithm/NAME."""
    algorithm = OmegaConf.to_container(cfg.algorithm, resolve=True)
    name = algorithm.pop("name")
    try:
        return build_objective(name, **algorithm)
    except TypeError as e:
        raise ConfigError(f"algorithm={name}: {e}. Check the keys of conf/algorithm/{name}.yaml "
                         f"and your algorithm.* overrides") from None


def check_reward_fits_objective(objective: Objective, reward_signal, reward_name: str) -> None:
    """Objectives that train on a positive/negative label need a binary reward signal."""
    if objective.needs.binary_labels and not reward_signal.binary:
        raise ConfigError(
            f"algorithm={objective.name} trains on a positive/negative label, but reward={reward_name} is "
            f"continuous. Use a binary reward (verified, random, inverted, format, majority_vote, incorrect) or an "
            f"objective that uses reward values (grpo, dr_grpo, dapo, ppo, reinforce, rloo, siren).")


class Trainer:
    def __init__(self, cfg: DictConfig, run_dir: str | Path, log=print):
        check_run_config(cfg)  # one line per unworkable value, before the warm start, Ray or any engine
        apply_seed_scope(cfg)
        self.cfg = cfg
        self.run_dir = check_run_dir(run_dir)
        from rlvr.infra.run_logging import RunLog

        self.log = RunLog(self.run_dir, echo=log)  # printed and appended to run_dir/train.log
        self.objective = build_run_objective(cfg)
        self.parts: StepParts | None = None
        self.step_runner: StepRunner | None = None
        self.learner = None

    # ------------------------------------------------------------------------------------------------------ setup
    def resolve_model(self) -> tuple[str, dict]:
        """The model the run starts from: a given checkpoint, or the embedded tiny model (warm-started)."""
        cfg = self.cfg
        if cfg.model.path:
            return cfg.model.path, {}
        from rlvr.models.tiny import default_cache_dir, ensure_tiny_model

        cache = Path(cfg.model.cache_dir) if cfg.model.cache_dir else default_cache_dir()
        self.log(f"model: the embedded {cfg.model.preset} model (seed {cfg.model.seed}), cached under {cache}")
        base = ensure_tiny_model(cfg.model.preset, cfg.model.seed, cache)
        if not cfg.model.warm_start.enabled:
            return str(base), {}
        from rlvr.models.warm_start import ensure_warm_start

        path, report = ensure_warm_start(base, cfg.model.warm_start, cfg.data, cache, device=cfg.cluster.device,
                                         log=self.log)
        return str(path), report

    def setup(self) -> None:
        """Start Ray (or join a cluster) and build the learner, the engine group, the verifier and the data."""
        ray = lazy_ray()
        cfg = self.cfg
        check_sleep_level(cfg.rollout)
        self.model_path, self.warm_report = self.resolve_model()  # before Ray: the warm start gets the whole CPU
        # The data too: a bad file stops the run (file:line) before any actor starts.
        source = build_prompt_source(cfg.data, heldout_size=cfg.trainer.eval_size, model_path=self.model_path)
        if not source.heldout:
            raise ConfigError(f"data: no held-out problems to evaluate on (the split of {cfg.data.get('path')} left "
                              f"none); give a held-out file with data.val_path=...")
        if source.heldout_note:
            self.log(source.heldout_note)
        started = time.monotonic()
        start_ray(cfg, self.log)  # a loopback-only local cluster, or join cluster.address; checks placement
        from transformers import AutoTokenizer

        from rlvr.infra.actor_group import ActorGroup
        from rlvr.weight_sync import build_weight_sync
        from rlvr.reward.signals import build_reward_signal
        from rlvr.reward.verifier_client import build_verifier
        from rlvr.rollout.worker import RolloutWorker

        reward_signal = build_reward_signal(cfg.reward.name, **OmegaConf.to_container(cfg.reward.params))
        check_reward_fits_objective(self.objective, reward_signal, cfg.reward.name)
        if cfg.rollout.async_steps and not self.objective.importance_weighted:
            self.log(f"note: algorithm={self.objective.name} has no importance weights in its loss, so with "
                     f"rollout.async_steps={cfg.rollout.async_steps} its rollouts, sampled by weights "
                     f"{cfg.rollout.async_steps} step(s) old, are trained on as if on-policy")
        t, r = cfg.trainer, cfg.rollout
        threads = int(cfg.cluster.num_cpus) if cfg.cluster.num_cpus else None
        r_name = {"vllm": "vLLM", "hf": "HF transformers"}.get(r.engine, r.engine)
        self.log(f"actors: the learner ({cfg.cluster.learner_world_size} rank(s)), {r.num_workers} {r_name} rollout "
                 f"worker(s) and the verifier are starting")
        self.learner = self.build_learner()
        engine_kwargs = {"dtype": r.dtype}
        if r.engine == "vllm":
            engine_kwargs.update(seed=t.seed, max_model_len=r.max_model_len,
                                 gpu_memory_utilization=r.gpu_memory_utilization)
        else:
            engine_kwargs.update(device="cuda" if r.num_gpus > 0 else "cpu", decode=r.get("hf_decode", "auto"),
                                 compile=r.get("hf_compile"))
        engines = ActorGroup(RolloutWorker, r.num_workers, name="rollout worker",
                             options=role_options(cfg.cluster, "rollout", num_cpus=r.num_cpus, num_gpus=r.num_gpus,
                                                  max_restarts=2),
                             make_args=lambda rank: ((r.engine, self.model_path),
                                                     {"worker_index": rank, "num_threads": threads, **engine_kwargs}))
        engines.call_all("ping")
        ray.get(self.learner.ping.remote())
        self.log(f"actors: ready ({time.monotonic() - started:.0f} s after Ray began starting)")
        tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        # The fixed sequence the sync check scores: the first held-out prompt with its reference answer.
        first = source.heldout[0]
        sync_probe = (tokenizer(first.prompt)["input_ids"]
                      + tokenizer(first.demonstration("answer"), add_special_tokens=False)["input_ids"])
        self.parts = StepParts(cfg=cfg, objective=self.objective, learner=self.learner, engines=engines,
                               weight_sync=build_weight_sync(t.weight_sync, r.dtype,
                                                             on_gpu=r.num_gpus > 0 and cfg.cluster.learner_num_gpus > 0),
                               verifier=build_verifier(cfg.reward.verifier, cfg.cluster.verifier_num_cpus,
                                                       role_options(cfg.cluster, "verifier").get("resources")),
                               reward_signal=reward_signal, source=source, tokenizer=tokenizer, sync_probe=sync_probe,
                               log=self.log)
        self.step_runner = StepRunner(self.parts)

    def learner_settings(self):
        from rlvr.learner.learner import LearnerSettings

        return LearnerSettings.from_config(self.cfg, rollout_temperature(self.cfg))

    def build_learner(self):
        """One LearnerActor, or cluster.learner_world_size data-parallel ranks behind the same kind of handle."""
        ray = lazy_ray()
        c = self.cfg.cluster
        options = role_options(c, "learner", num_cpus=c.learner_num_cpus, num_gpus=c.learner_num_gpus)
        if c.learner_world_size > 1:
            from rlvr.learner.group import LearnerGroup

            return LearnerGroup(self.model_path, self.objective, self.learner_settings(), c.learner_world_size,
                                options=options)
        from rlvr.learner.actor import LearnerActor

        return ray.remote(LearnerActor).options(**options).remote(self.model_path, self.objective,
                                                                  self.learner_settings())

    # ----------------------------------------------------------------------------- the parts tests and tools reach
    @property
    def engines(self):
        return self.parts.engines

    @property
    def workers(self) -> list:
        return self.parts.engines.actors

    @property
    def sync_probe(self) -> list[int]:
        return self.parts.sync_probe

    @property
    def counters(self) -> dict[str, int]:
        return self.parts.counters if self.parts else {}

    def generate(self, prompts: list[str], n: int, temperature: float, seed: int, max_tokens: int | None = None):
        return self.step_runner.generate(prompts, n, temperature, seed, max_tokens)[0]

    def train_step(self, step: int) -> dict:
        return self.step_runner(step)

    def sync_weights(self) -> float:
        return self.step_runner.sync_weights()

    def check_sync(self) -> float:
        return self.step_runner.check_sync()

    def heldout_accuracy(self) -> float:
        """Greedy accuracy on the held-out problems; which ones were right is kept in `heldout_correct` (a string of
        0/1 per problem, in order), so two evaluations can be compared problem by problem."""
        counts = score_heldout(self.generate, self.step_runner.verify, self.parts.source.heldout, k=1, temperature=0.0,
                               seed=0)
        self.heldout_correct = "".join(str(c) for c in counts)
        return mean_accuracy(counts)

    def heldout_sampled(self, k: int) -> tuple[float, list[int]]:
        """Sampled accuracy on the held-out problems: k responses each at the rollout temperature (a fixed seed, so
        the start and the end draw alike). Returns the accuracy and the number right per problem, in order."""
        counts = score_heldout(self.generate, self.step_runner.verify, self.parts.source.heldout, k=k,
                               temperature=rollout_temperature(self.cfg), seed=999_983)
        return mean_accuracy(counts, k), counts

    # ----------------------------------------------------------------------------------------------- the loop
    def close(self) -> None:
        """Kill this run's actors (their CPUs/GPUs go back to the cluster)."""
        ray = lazy_ray()
        if self.learner is not None:
            for actor in getattr(getattr(self.learner, "actors", None), "actors", [self.learner]):
                ray.kill(actor)
        if self.parts is not None:
            self.parts.engines.kill()
            self.parts.verifier.close()

    def run(self, close: bool = True) -> dict:
        ray = lazy_ray()
        from rlvr.infra.checkpoint import resolve_resume
        from rlvr.infra.run_logging import RunLogger, plot_metrics

        cfg, t = self.cfg, self.cfg.trainer
        started = time.monotonic()
        # Before anything starts: a resume path that is missing or damaged is one-line error, stale temporary
        # checkpoint dirs go, `auto` falls back past damaged checkpoints (saying so).
        ckpt = resolve_resume(self.run_dir, t.resume, log=self.log)
        (self.run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
        self.setup()
        start_step, state = 0, {}
        if ckpt is not None:
            state = ray.get(self.learner.load.remote(str(ckpt)))
            start_step = int(state["step"])
            if "objective" in state:
                self.objective.load_state_dict(state["objective"])
            self.parts.policy_version = int(state.get("policy_version", 0))
            if state.get("verifier"):
                self.parts.verifier.load_state_dict(state["verifier"])  # verifier/* counters continue
            self.log(f"resumed from {ckpt} at step {start_step}")
        self.sync_weights()
        logger = RunLogger(self.run_dir, project=cfg.logger.project, wandb_mode=cfg.logger.wandb_mode,
                           config=OmegaConf.to_container(cfg, resolve=True), total_steps=t.steps,
                           resume_step=start_step, console=cfg.logger.console)
        ready = time.monotonic()  # warm start, Ray, actors and the first sync are behind: training time starts here
        initial_acc = state.get("initial_heldout_accuracy")
        if initial_acc is None:
            self.log(f"evaluating: greedy accuracy on {len(self.parts.source.heldout)} held-out problems")
            initial_acc = self.heldout_accuracy()
            state["initial_heldout_correct"] = self.heldout_correct
            self.log(f"held-out accuracy before RL: {initial_acc:.1%}; training {t.steps} steps")
            first = {"heldout_accuracy": initial_acc}
            if t.eval_samples:
                first["heldout_sampled_accuracy"], state["initial_heldout_sampled"] = self.heldout_sampled(
                    t.eval_samples)
            logger.log(0, first)
        last_acc = state.get("last_heldout_accuracy", initial_acc)
        self.initial_heldout_correct = state.get("initial_heldout_correct")
        self.heldout_correct = state.get("last_heldout_correct", self.initial_heldout_correct)
        self.initial_heldout_sampled = state.get("initial_heldout_sampled")
        self.final_heldout_sampled = None
        step = start_step
        # RL-Extra anchors: the weights at the start of the current M-step window (not restored on resume).
        anchor = ray.get(self.learner.named_weights.remote()) if t.extrapolate_every else None
        try:
            for step in range(start_step, t.steps):
                metrics = self.train_step(step)
                if t.extrapolate_every and (step + 1) % t.extrapolate_every == 0:
                    anchor = self._rl_extra(anchor, metrics)
                if (step + 1) % t.eval_every == 0 or step + 1 == t.steps:
                    eval_start = time.perf_counter()
                    last_acc = metrics["heldout_accuracy"] = self.heldout_accuracy()
                    metrics["time/eval_s"] = time.perf_counter() - eval_start
                    if t.eval_samples and step + 1 == t.steps:
                        metrics["heldout_sampled_accuracy"], self.final_heldout_sampled = self.heldout_sampled(
                            t.eval_samples)
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
                   "model_path": self.model_path, **{f"counter/{k}": v for k, v in self.counters.items()},
                   "initial_heldout_correct": self.initial_heldout_correct,
                   "final_heldout_correct": self.heldout_correct,
                   "initial_heldout_sampled": self.initial_heldout_sampled,
                   "final_heldout_sampled": self.final_heldout_sampled,
                   "startup_s": round(ready - started, 1), "train_s": round(time.monotonic() - ready, 1)}
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=1))
        plot_metrics(self.run_dir / "metrics.jsonl", self.run_dir / "curves.png")
        return summary

    def _rl_extra(self, anchor, metrics):
        """RL-Extra (docs/ALGORITHMS.md 9): every M real steps, extrapolate from the last anchor forward by alpha."""
        ray = lazy_ray()
        from rlvr.algorithms.extrapolation import extrapolate_state_dicts

        current = ray.get(self.learner.named_weights.remote())
        new = extrapolate_state_dicts(anchor, current, self.cfg.trainer.extrapolate_alpha)
        ray.get(self.learner.load_weights.remote(new))
        self.parts.policy_version += 1
        self.sync_weights()
        metrics["rl_extra_applied"] = 1.0
        return new

    def _checkpoint(self, step: int, initial_acc: float, last_acc: float) -> None:
        ray = lazy_ray()
        state = {"step": step, "data_cursor": step, "initial_heldout_accuracy": initial_acc,
                 "last_heldout_accuracy": last_acc, "initial_heldout_correct": self.initial_heldout_correct,
                 "initial_heldout_sampled": self.initial_heldout_sampled,
                 "last_heldout_correct": self.heldout_correct, "objective": self.objective.state_dict(),
                 "policy_version": self.parts.policy_version, "verifier": self.parts.verifier.state_dict()}
        path = ray.get(self.learner.save.remote(str(self.run_dir), step, state, self.cfg.trainer.keep_checkpoints))
        self.log(f"checkpoint: {path}")

