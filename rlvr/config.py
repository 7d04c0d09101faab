"""Structured configs (dataclasses registered in Hydra's ConfigStore).

Every group of conf/ is typed here, so a misspelled key or a wrong type fails at start-up with Hydra's message naming
the key. The `algorithm` node is the exception: each objective has its own fields, so it is validated when the
objective is built (`rlvr.algorithms.build_objective`), with an error naming `algorithm.<key>`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore


@dataclass
class WarmStartConfig:
    """SFT on generated solutions so the embedded model starts with non-zero accuracy (cached per spec)."""
    enabled: bool = True
    objective: str = "sft"           # sft | dft
    steps: int = 4000                # upper bound; stops early at target_accuracy
    batch_size: int = 64
    lr: float = 2e-3
    warmup_steps: int = 100
    target_accuracy: float = 0.25    # greedy accuracy on held-out problems at which warm start stops
    eval_every: int = 200
    eval_size: int = 200
    seed: int = 0


@dataclass
class ModelConfig:
    path: Optional[str] = None       # a local HF checkpoint dir (or hub id); None = the embedded tiny model
    preset: str = "tiny"             # embedded model size: tiny | small
    seed: int = 0                    # init seed of the embedded model
    cache_dir: Optional[str] = None  # default: $RLVR_CACHE_DIR or ~/.cache/rlvr
    dtype: str = "float32"           # learner dtype: float32 | bfloat16
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)


@dataclass
class DataConfig:
    source: str = "random_calculation"    # random_calculation | jsonl | parquet
    path: Optional[str] = None            # for jsonl/parquet
    prompt_key: str = "problem"
    answer_key: str = "answer"
    solution_key: str = "solution"
    family: str = "easy"                  # RandomCalculation family: easy | paper
    levels: list[int] = field(default_factory=lambda: [1])
    max_operand: Optional[int] = None    # None = the family's default (easy 0-99, paper 0-100)
    operators: Optional[str] = None       # None = the family's default (easy "+-", paper "+-*/")
    seed: int = 0
    template: str = "{problem_text}="     # str.format over the problem's fields
    solution_format: str = "answer"       # demonstrations: answer (\boxed{a} only) | steps (the reference solution)
    heldout_size: int = 200               # held-out test problems for pass@1 during training


@dataclass
class VerifierConfig:
    mode: str = "default"            # default | random_calculation (continuous score)
    num_workers: int = 1             # process-pool workers (0 = in-process)
    timeout_s: float = 5.0
    use_ray_actor: bool = True       # run as a Ray actor (VerifierService) or in the driver


@dataclass
class RewardConfig:
    name: str = "verified"           # verified | continuous | random | inverted | format | majority_vote | incorrect
    params: dict[str, Any] = field(default_factory=dict)
    verifier: VerifierConfig = field(default_factory=VerifierConfig)


@dataclass
class RolloutConfig:
    engine: str = "vllm"             # vllm | hf
    num_workers: int = 1             # RolloutWorker actors; prompts are sharded across them
    n: int = 8                       # responses per prompt (G)
    prompts_per_step: int = 16
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    max_model_len: int = 256
    dtype: str = "float32"
    num_cpus: float = 1.0            # Ray resources per worker
    num_gpus: float = 0.0
    gpu_memory_utilization: float = 0.5


@dataclass
class TrainerConfig:
    steps: int = 60
    seed: int = 0
    lr: float = 5e-4
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    warmup_steps: int = 0
    schedule: str = "constant"       # constant | linear | cosine (after warm-up)
    grad_clip: float = 1.0
    mini_batch_prompts: Optional[int] = None   # prompts per optimizer step; None = the whole rollout batch
    micro_batch_size: int = 128                # sequences per forward/backward (gradient accumulation)
    epochs: int = 1                            # passes over each rollout batch
    device: str = "cpu"
    eval_every: int = 10
    eval_size: int = 200
    checkpoint_every: int = 20
    keep_checkpoints: int = 3
    resume: str = "auto"             # auto (latest in run_dir) | never | a checkpoint dir
    run_dir: Optional[str] = None    # default: Hydra's output dir
    sync_check: bool = True          # after each weight sync, rollout logprobs must equal learner logprobs
    sync_tolerance: float = 1e-4
    max_dynamic_sampling_rounds: int = 3  # DAPO/NFT: extra rollout rounds to refill filtered groups
    extrapolate_every: int = 0        # RL-Extra: every M steps, extrapolate forward (0 = off)
    extrapolate_alpha: float = 2.0


@dataclass
class LoggerConfig:
    project: str = "rlvr"
    wandb_mode: str = "offline"      # offline | online | disabled
    console: bool = True
    group: Optional[str] = None      # wandb group; None = the sweep (<name>/<sweep time>) or, outside a sweep, `name`
    run_name: Optional[str] = None   # wandb run name; None = the overrides that differ within the sweep
    job_type: str = "train"
    tags: list[str] = field(default_factory=list)   # added to the tags derived from config (algorithm, reward, ...)


@dataclass
class ClusterConfig:
    address: Optional[str] = None    # Ray address; None = start a local cluster
    num_cpus: Optional[int] = 2      # for the local cluster
    num_gpus: Optional[int] = 0
    learner_num_cpus: float = 1.0
    learner_num_gpus: float = 0.0
    verifier_num_cpus: float = 0.0


@dataclass
class RLVRConfig:
    name: str = "debug_cpu"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    algorithm: Any = field(default_factory=lambda: {"name": "grpo"})
    reward: RewardConfig = field(default_factory=RewardConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="rlvr_schema", node=RLVRConfig)
    for group, node in [("model", ModelConfig), ("data", DataConfig), ("reward", RewardConfig),
                        ("rollout", RolloutConfig), ("trainer", TrainerConfig), ("logger", LoggerConfig),
                        ("cluster", ClusterConfig)]:
        cs.store(group=group, name=f"{group}_schema", node=node)


CONF_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent / "conf"


def compose(overrides: list[str] | None = None, config_name: str = "config"):
    """Compose the config outside @hydra.main (tests, notebooks, the evaluator)."""
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=overrides or [])
