"""A training run's live parts: `build_run(cfg, run_dir)` checks the config, resolves the model (warm start), reads
the data, starts Ray (or joins a cluster) and builds the learner, the rollout engines and the verifier. The `Run` it
returns owns them until `close()`: it takes one step, syncs the weights, scores the held-out problems, saves and
restores checkpoints. The cadence around it (evaluate every N, checkpoint every M, log, resume) is rlvr.loop.train;
benches and tests drive a Run directly.
"""
from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from rlvr.algorithms import Objective, build_objective
from rlvr.config import apply_seed_scope
from rlvr.config_checks import ConfigError, check_run_config, check_run_dir
from rlvr.data.prompts import build_prompt_source
from rlvr.heldout import mean_accuracy, score_heldout
from rlvr.infra.lazy_ray import lazy_ray
from rlvr.infra.ray_start import role_options, start_ray, stop_ray
from rlvr.step import StepParts, StepRunner, check_sleep_level, rollout_temperature

__all__ = ["Run", "build_run", "build_run_objective"]

GREEDY_SEED, SAMPLED_SEED = 0, 999_983  # fixed, so that every evaluation of a run draws alike


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


def build_run(cfg: DictConfig, run_dir: str | Path, log=print) -> "Run":
    """A started Run: checked config, model, data, Ray and every actor ready (weights not yet synced)."""
    return Run(cfg, run_dir, log).start()


class Run:
    """Constructing one only checks (config, run directory) and opens the run's log; `start()` does the expensive
    part. Usable as a context manager: leaving it closes the run."""

    def __init__(self, cfg: DictConfig, run_dir: str | Path, log=print):
        check_run_config(cfg)  # one line per unworkable value, before the warm start, Ray or any engine
        apply_seed_scope(cfg)
        self.cfg = cfg
        self.run_dir = check_run_dir(run_dir)
        from rlvr.infra.run_logging import RunLog

        self.log = RunLog(self.run_dir, echo=log)  # printed and appended to run_dir/train.log
        self.objective = build_run_objective(cfg)
        self.learner = None
        self.parts: StepParts | None = None
        self.step_runner: StepRunner | None = None
        self.model_path, self.warm_report = None, {}
        self.owns_ray = False

    # ------------------------------------------------------------------------------------------------ start-up
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

    def start(self) -> "Run":
        """Warm start and data first (a bad file stops the run before any actor), then Ray and the actors."""
        ray = lazy_ray()
        cfg, t, r = self.cfg, self.cfg.trainer, self.cfg.rollout
        check_sleep_level(r)
        self.model_path, self.warm_report = self.resolve_model()  # before Ray: the warm start gets the whole CPU
        source = build_prompt_source(cfg.data, heldout_size=t.eval_size, model_path=self.model_path)
        if not source.heldout:
            raise ConfigError(f"data: no held-out problems to evaluate on (the split of {cfg.data.get('path')} left "
                              f"none); give a held-out file with data.val_path=...")
        if source.heldout_note:
            self.log(source.heldout_note)
        started = time.monotonic()
        self.owns_ray = not ray.is_initialized()
        start_ray(cfg, self.log)  # a loopback-only local cluster, or join cluster.address; checks placement
        from transformers import AutoTokenizer

        from rlvr.reward.signals import build_reward_signal
        from rlvr.reward.verifier_client import build_verifier
        from rlvr.weight_sync import build_weight_sync

        reward_signal = build_reward_signal(cfg.reward.name, **OmegaConf.to_container(cfg.reward.params))
        check_reward_fits_objective(self.objective, reward_signal, cfg.reward.name)
        if r.async_steps and not self.objective.importance_weighted:
            self.log(f"note: algorithm={self.objective.name} has no importance weights in its loss, so with "
                     f"rollout.async_steps={r.async_steps} its rollouts, sampled by weights "
                     f"{r.async_steps} step(s) old, are trained on as if on-policy")
        r_name = {"vllm": "vLLM", "hf": "HF transformers"}.get(r.engine, r.engine)
        self.log(f"actors: the learner ({cfg.cluster.learner_world_size} rank(s)), {r.num_workers} {r_name} rollout "
                 f"worker(s) and the verifier are starting")
        self.learner = self._build_learner()
        engines = self._build_engines()
        engines.call_all("ping")
        self.learner.actors.call_all("ping")
        self.log(f"actors: ready ({time.monotonic() - started:.0f} s after Ray began starting)")
        tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        # The fixed sequence the sync check scores: the first held-out prompt with its reference answer.
        first = source.heldout[0]
        sync_probe = (tokenizer(first.prompt)["input_ids"]
                      + tokenizer(first.demonstration("answer"), add_special_tokens=False)["input_ids"])
        on_gpu = r.num_gpus > 0 and cfg.cluster.learner_num_gpus > 0
        self.parts = StepParts(cfg=cfg, objective=self.objective, learner=self.learner, engines=engines,
                               weight_sync=build_weight_sync(t.weight_sync, r.dtype, on_gpu=on_gpu),
                               verifier=build_verifier(cfg.reward.verifier, cfg.cluster.verifier_num_cpus,
                                                       role_options(cfg.cluster, "verifier").get("resources")),
                               reward_signal=reward_signal, source=source, tokenizer=tokenizer, sync_probe=sync_probe,
                               log=self.log)
        self.step_runner = StepRunner(self.parts)
        return self

    def _build_learner(self):
        """cluster.learner_world_size data-parallel ranks (one is a group of one) behind one actor-like handle."""
        from rlvr.learner.group import LearnerGroup
        from rlvr.learner.settings import LearnerSettings

        c = self.cfg.cluster
        settings = LearnerSettings.from_config(self.cfg, rollout_temperature(self.cfg))
        return LearnerGroup(self.model_path, self.objective, settings, c.learner_world_size,
                            options=role_options(c, "learner", num_cpus=c.learner_num_cpus,
                                                 num_gpus=c.learner_num_gpus))

    def _build_engines(self):
        from rlvr.infra.actor_group import ActorGroup
        from rlvr.rollout.worker import RolloutWorker

        cfg, r = self.cfg, self.cfg.rollout
        threads = int(cfg.cluster.num_cpus) if cfg.cluster.num_cpus else None
        engine_kwargs = {"dtype": r.dtype}
        if r.engine == "vllm":
            engine_kwargs.update(seed=cfg.trainer.seed, max_model_len=r.max_model_len,
                                 gpu_memory_utilization=r.gpu_memory_utilization)
        else:
            engine_kwargs.update(device="cuda" if r.num_gpus > 0 else "cpu", decode=r.hf_decode,
                                 compile=r.hf_compile)
        return ActorGroup(RolloutWorker, r.num_workers, name="rollout worker",
                          options=role_options(cfg.cluster, "rollout", num_cpus=r.num_cpus, num_gpus=r.num_gpus,
                                               max_restarts=2),
                          make_args=lambda rank: ((r.engine, self.model_path),
                                                  {"worker_index": rank, "num_threads": threads, **engine_kwargs}))

    # ------------------------------------------------------------------------------------------- what a run does
    @property
    def workers(self) -> list:
        return self.parts.engines.actors

    @property
    def counters(self) -> dict[str, int]:
        return self.parts.counters if self.parts else {}

    def step(self, step: int) -> dict:
        """One training step (rlvr.step): rollouts, verdicts, rewards, the update, the weight sync and its check."""
        return self.step_runner(step)

    def sync(self) -> float:
        """Push the learner's weights to every engine and check both score the probe alike; seconds taken."""
        return self.step_runner.sync_weights()

    def check_sync(self) -> float:
        return self.step_runner.check_sync()

    def generate(self, prompts: list[str], n: int, temperature: float, seed: int, max_tokens: int | None = None):
        return self.step_runner.generate(prompts, n, temperature, seed, max_tokens)[0]

    def heldout(self) -> tuple[float, str]:
        """Greedy accuracy on the held-out problems, and which were right (a 0/1 string, in order), so that two
        evaluations can be compared problem by problem."""
        counts = score_heldout(self.generate, self.step_runner.verify, self.parts.source.heldout, k=1,
                               temperature=0.0, seed=GREEDY_SEED)
        return mean_accuracy(counts), "".join(str(c) for c in counts)

    def heldout_sampled(self, k: int) -> tuple[float, list[int]]:
        """Sampled accuracy on the held-out problems: k responses each at the rollout temperature (a fixed seed, so
        the start and the end draw alike). Returns the accuracy and the number right per problem, in order."""
        counts = score_heldout(self.generate, self.step_runner.verify, self.parts.source.heldout, k=k,
                               temperature=rollout_temperature(self.cfg), seed=SAMPLED_SEED)
        return mean_accuracy(counts, k), counts

    def weights(self) -> dict:
        return lazy_ray().get(self.learner.named_weights.remote())

    def extrapolate_forward(self, anchor: dict) -> dict:
        """RL-Extra (docs/ALGORITHMS.md 9): jump from `anchor` through the current weights by
        trainer.extrapolate_alpha, load the result and sync it; it is the next anchor."""
        from rlvr.algorithms.extrapolation import extrapolate_state_dicts

        new = extrapolate_state_dicts(anchor, self.weights(), self.cfg.trainer.extrapolate_alpha)
        lazy_ray().get(self.learner.load_weights.remote(new))
        self.parts.policy_version += 1
        self.sync()
        return new

    # ------------------------------------------------------------------------------------------- checkpoints
    def save(self, step: int, loop_state: dict) -> str:
        """A checkpoint of the learner (model, optimizer) with the run's own state and the loop's."""
        state = {"step": step, "data_cursor": step, **loop_state, "objective": self.objective.state_dict(),
                 "policy_version": self.parts.policy_version, "verifier": self.parts.verifier.state_dict()}
        path = lazy_ray().get(self.learner.save.remote(str(self.run_dir), step, state,
                                                       self.cfg.trainer.keep_checkpoints))
        self.log(f"checkpoint: {path}")
        return path

    def restore(self, checkpoint: str | Path) -> dict:
        """Load a checkpoint into the learner and the run; the saved state back (step and the loop's keys)."""
        state = lazy_ray().get(self.learner.load.remote(str(checkpoint)))
        if "objective" in state:
            self.objective.load_state_dict(state["objective"])
        self.parts.policy_version = int(state.get("policy_version", 0))
        if state.get("verifier"):
            self.parts.verifier.load_state_dict(state["verifier"])  # verifier/* counters continue
        self.log(f"resumed from {checkpoint} at step {int(state['step'])}")
        return state

    # ------------------------------------------------------------------------------------------------ the end
    def close(self) -> None:
        """Kill this run's actors (their CPUs/GPUs go back to the cluster); stop Ray if this run started it."""
        if self.learner is not None:
            self.learner.actors.kill()
        if self.parts is not None:
            self.parts.engines.kill()
            self.parts.verifier.close()
        if self.owns_ray:
            stop_ray()
        self.owns_ray = False

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
