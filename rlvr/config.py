"""Structured configs (dataclasses registered in Hydra's ConfigStore).

Every group of conf/ is typed here, so a misspelled key or a wrong type fails at start-up with Hydra's message naming
the key. Each objective has its own fields: its `algorithm/<name>_schema` is made from the objective's defaults
(rlvr.algorithms.base.config_schema).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore


@dataclass
class WarmStartConfig:
    """SFT on generated solutions so the embedded model starts RL sometimes right (cached per spec).

    The tiny model's SFT curve is flat, then rises steeply within ~100 steps; where that rise starts depends on the
    machine's float kernels. A check every 25 steps stops the warm start just past `target_accuracy` wherever the
    rise happens, so RL starts from about the same accuracy on every CPU. The rate stays constant: a cosine schedule
    brings the rise earlier, but its annealed model gains far less from RL (measured from 57%: +7 points in 60 GRPO
    steps, against +24 from this recipe's 51.5%; docs/PERFORMANCE.md)."""
    enabled: bool = True
    objective: str = "sft"           # sft | dft
    sft_steps_first: int = 0         # dft: this many SFT steps first. DFT weights each token's loss by its own
                                     # probability, ~1/V on an untrained model, so from random init it never starts
    steps: int = 2000                # upper bound; stops early at target_accuracy
    batch_size: int = 128
    lr: float = 2e-3
    warmup_steps: int = 100
    schedule: str = "constant"       # constant | linear | cosine (decay to 0 at `steps`)
    target_accuracy: float = 0.5     # greedy accuracy on held-out problems at which the warm start stops
    eval_every: int = 25
    eval_size: int = 200
    seed: int = 0


@dataclass
class ModelConfig:
    path: Optional[str] = None       # a local HF checkpoint dir (or hub id); None = the embedded tiny model
    preset: str = "tiny"             # embedded model size: tiny | small
    seed: int = 0                    # init seed of the embedded model
    cache_dir: Optional[str] = None  # default: $RLVR_CACHE_DIR or ~/.cache/rlvr
    dtype: str = "float32"           # the model's compute precision (float32 | bfloat16): learner.dtype defaults to it
    gradient_checkpointing: bool = False  # what training this model at its lengths needs; learner's default
    lr: float = 1e-6                 # the learning rate this model trains with; optim.lr defaults to it
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)


@dataclass
class DataConfig:
    source: str = "random_calculation"    # random_calculation | jsonl | parquet | hf (datasets.load_dataset)
    path: Optional[str] = None            # jsonl/parquet file; hf: save_to_disk dir, data-file dir or file
    val_path: Optional[str] = None        # held-out problems from this file instead of a split of path
    split: str = "train"                  # hf: the split of path to train on
    val_split: str = "test"               # hf: the split of val_path to hold out
    prompt_key: str = "problem"           # `a.b` reaches into nested records; a list of chat messages is used as is
    answer_key: str = "answer"            # e.g. reward_model.ground_truth for verl's parquet files
    solution_key: str = "solution"
    family: str = "easy"                  # RandomCalculation family: easy | paper
    levels: list[int] = field(default_factory=lambda: [1])
    max_operand: Optional[int] = None    # None = the family's default (easy 0-99, paper 0-100)
    operators: Optional[str] = None       # None = the family's default (easy "+-", paper "+-*/")
    seed: int = 0
    train_problems: int = 0               # > 0: train on only the first N problems of the training stream, cycled in
                                          # seeded epochs (one-shot RLVR: 1); 0 = all of them. The held-out set is
                                          # unchanged
    train_problem_ids: list[str] = field(default_factory=list)  # non-empty: train on exactly these problems (ids
                                          # of the training stream or file, in this order; e.g. the one picked by
                                          # `python -m bench one-shot`); data.train_problems then limits this list
    template: str = "{problem_text}="     # {field} placeholders; other braces (\\boxed{}) are literal
    system_prompt: Optional[str] = None   # chat models: the system turn; plain prompts: a first paragraph
    chat_template: str = "auto"           # auto (the tokenizer's chat template when it has one) | always | never
    solution_format: str = "answer"       # demonstrations: answer (\boxed{a} only) | steps (the reference solution)


@dataclass
class VerifierConfig:
    mode: str = "default"            # default | random_calculation (continuous score)
    num_workers: int = 1             # process-pool workers (0 = in-process)
    timeout_s: float = 5.0
    use_ray_actor: bool = True       # run as a Ray actor (VerifierService) or in the driver
    backend: str = "rlvr"            # rlvr | math_verify | cascade (the last two run only in pool workers: num_workers >= 1)


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
    async_steps: int = 0             # 0: synchronous; k: rollouts of the next k steps overlap learning (k off-policy)
    sleep_level: int = 0             # engine=hf colocated with the learner: 0 stays awake; while the learner trains,
                                     # 1 moves the engine's weights to host memory, 2 drops them (the sync refills
                                     # them); both drop the KV cache
    hf_decode: str = "auto"          # engine=hf: static (fixed-shape KV cache) | dynamic | auto (static on CUDA)
    hf_compile: Optional[bool] = None  # engine=hf, static: torch.compile the decode step (CUDA graphs); None = on CUDA


@dataclass
class TrainerConfig:
    steps: int = 60
    seed: int = 0
    seed_scope: str = "sampling"     # sampling: the seed draws rollouts and mini-batch orders only (model init, warm
                                     # start, prompt stream and held-out problems shared by every seed) | run: it
                                     # also sets model.seed, model.warm_start.seed and data.seed (seed variance)
    eval_every: int = 10
    eval_size: int = 200
    eval_samples: int = 0            # > 0: at the start and the end, also sample this many responses per held-out
                                     # problem at the rollout temperature (the accuracy RL optimises; greedy can
                                     # stand still while it rises)
    checkpoint_every: int = 20
    keep_checkpoints: int = 3
    resume: str = "auto"             # auto (latest in run_dir) | never | a checkpoint dir
    run_dir: Optional[str] = None    # default: Hydra's output dir
    sync_check: bool = True          # after each weight sync, rollout logprobs must equal learner logprobs
    sync_check_every: int = 1        # check every Nth sync only (the run's first is always checked): at small scale
                                     # the check's two scoring calls are a visible share of a step
    sync_tolerance: float = 1e-4
    weight_sync: str = "object_store"  # how weights reach the engines: a module of rlvr/weight_sync/
    is_cap: Optional[float] = 2.0    # truncated importance weight pi_learner/pi_sampler cap (None/0: off)
    max_dynamic_sampling_rounds: int = 3  # DAPO/NFT: extra rollout rounds to refill filtered groups
    extrapolate_every: int = 0        # RL-Extra: every M steps, extrapolate forward (0 = off)
    extrapolate_alpha: float = 2.0
    log_problems: bool = False        # also write problems.jsonl: each step's prompts (id) with their samples' correct
                                      # count, the per-problem training accuracy one-shot RLVR selects by


@dataclass
class OptimConfig:
    """AdamW over the policy (and the critic's own) and the learning-rate schedule over rollout steps."""
    lr: float = 5e-4
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    warmup_steps: int = 0
    schedule: str = "constant"       # constant | linear | cosine (after warm-up)
    grad_clip: float = 1.0
    critic_lr: float = 1e-5          # PPO's value model
    fused_adamw: Optional[bool] = None  # None = fused on CUDA, plain elsewhere


@dataclass
class LearnerConfig:
    """How the learner runs an update: mini- and micro-batches, precision, and the memory features."""
    mini_batch_prompts: Optional[int] = None   # prompts per optimizer step; None = the whole rollout batch
    micro_batch_size: int = 128                # sequences per forward/backward (gradient accumulation)
    max_tokens_per_micro_batch: Optional[int] = None  # token budget: rows x longest <= budget, rows sorted by
                                               # length (verl's dynamic batch size); None = micro_batch_size rows
    padding_free: bool = False                 # run each micro-batch as one packed row (no padding FLOPs); the
                                               # token budget is then on the sum of lengths
    logprob_chunk_tokens: int = 1024           # tokens per lm_head chunk: log-probs without [B, T, V] logits
    epochs: int = 1                            # passes over each rollout batch
    dtype: str = "float32"                     # compute: float32 | bfloat16 (autocast / FSDP param dtype)
    master_dtype: str = "float32"              # parameters and AdamW state (fp32: a 1e-6 step is not rounded away)
    gradient_checkpointing: bool = False       # recompute decoder layers in the backward (activation memory)
    compile: bool = False                      # torch.compile each decoder layer
    reuse_update_forward: bool = True          # one optimizer step per rollout batch and no reference, critic or
                                               # rollout statistic: the old log-probs (and importance weights)
                                               # come from the update's own forward, not a no-grad pass first
    skip_zero_advantage: bool = False          # leave rows whose advantages are all 0 out of the forward/backward
                                               # when the objective's loss is inert there (no KL, entropy, critic):
                                               # the same step for less compute; per-token metrics (entropy,
                                               # clip fractions) then cover the trained rows only


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
    learner_world_size: int = 1      # data-parallel learner ranks (FSDP2; gloo on CPU, NCCL on GPU)
    verifier_num_cpus: float = 0.0
    device: str = "cpu"              # where the learner computes (cpu | cuda)
    # Placement on a cluster: Ray custom resources each actor asks for, e.g. start a node with
    # `RESOURCES='{"rollout": 8}' launch/ray_worker.sh HEAD:6379` and set +cluster.rollout_resources.rollout=1.
    # Per learner rank, per rollout worker, for the verifier actor. Empty: anywhere Ray finds CPUs/GPUs.
    learner_resources: dict[str, float] = field(default_factory=dict)
    rollout_resources: dict[str, float] = field(default_factory=dict)
    verifier_resources: dict[str, float] = field(default_factory=dict)


@dataclass
class RLVRConfig:
    name: str = "debug_cpu"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    algorithm: Any = field(default_factory=lambda: {"name": "grpo"})
    reward: RewardConfig = field(default_factory=RewardConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)


@dataclass
class EvaluateConfig:
    """`python -m rlvr.evaluate` (conf/evaluate/evaluate.yaml): one evaluation of one model on one benchmark."""
    model: Optional[str] = None       # an HF model directory; with engine=logits: the later checkpoint B
    run: Optional[str] = None         # a training run directory: its held-out problems, prompted exactly as in
                                      # training (its whole data node and template; data= and template= are not
                                      # used), trainer.eval_size of them; model= defaults to its newest checkpoint
    train_data: Optional[str] = None  # a training data group (conf/data/NAME.yaml: random_calculation_easy, jsonl,
                                      # hf, ...): its held-out problems, count= of them, prompted as training
                                      # prompts them (data= and template= are not used)
    train_data_keys: dict[str, Any] = field(default_factory=dict)  # that group's keys, as training's data.KEY=...:
                                      # +train_data_keys.path=train.jsonl "+train_data_keys.template='Q: {problem}'"
    model_a: Optional[str] = None     # engine=logits: the earlier checkpoint A
    alpha: float = 1.0                # engine=logits: logits of A + alpha * (B - A)
    data: str = "math500"             # math500 | gsm8k | aime24 | amc23 | random_calculation | a .jsonl path
    n: int = 16                       # samples per problem
    k: list[int] = field(default_factory=lambda: [1, 8, 16])   # pass@k / maj@k (k <= n are reported)
    engine: str = "hf"                # hf | vllm | logits
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 1024
    greedy: bool = False              # n=1, temperature 0
    limit: int = 0                    # first N problems only (0 = all)
    out: str = "evals/${now:%Y-%m-%d_%H-%M-%S}"   # samples.jsonl, summary.json; rerun with the same out= resumes
    template: str = "qwen_boxed"      # qwen_boxed | plain | random_calculation | equals | chat (the tokenizer's)
    seed: int = 0
    device: str = "auto"              # auto (cuda when available) | cpu | cuda
    dtype: str = "float32"            # float32 | bfloat16 | float16
    batch: int = 32                   # problems per generate call
    max_model_len: int = 4096         # engine=vllm: prompt + response tokens
    gpu_memory_utilization: float = 0.8   # engine=vllm on a GPU
    level: int = 1                    # data=random_calculation: level, family, split, count
    family: str = "easy"
    split: str = "test"
    count: int = 200


@dataclass
class ExtrapolateConfig:
    """`python -m rlvr.extrapolate` (conf/extrapolate/extrapolate.yaml): weight or logits extrapolation along an RLVR
    trajectory, or the linearity check that says whether extrapolating is worth trying."""
    mode: str = "weights"             # weights (two points) | fit (least squares) | linearity (R^2) | logits (decode)
    a: Optional[str] = None           # weights, logits: the earlier checkpoint A (an HF dir, e.g. .../step_000060)
    b: Optional[str] = None           # weights, logits: the later checkpoint B
    ckpts: list[str] = field(default_factory=list)   # fit, linearity: checkpoints in step order (3+ for a real fit)
    steps: list[int] = field(default_factory=list)   # their steps, one per checkpoint (default: trainer_state.json)
    target_step: Optional[float] = None   # weights, fit: the step to extrapolate to
    out: Optional[str] = None         # weights, fit: the new checkpoint dir; linearity: histograms + linearity.json
    norm_from: str = "b"              # b: copy norm tensors from the later checkpoint (the paper) | extrapolate
    alpha: float = 1.5                # logits: z_A + alpha (z_B - z_A); 1 = B, > 1 extrapolates past B
    prompts: list[str] = field(default_factory=list)  # logits: prompts to complete
    n: int = 1                        # logits: samples per prompt
    temperature: float = 0.6          # logits: 0 = greedy
    top_p: float = 0.95
    max_tokens: Optional[int] = None  # tokens per sequence; None = 256 (logits) or 64 (linearity)
    seed: int = 0                     # logits: sampling seed; linearity: weight sample and default texts
    device: str = "cpu"               # logits: cpu | cuda
    fraction: float = 0.001           # linearity: fraction of each tensor's weights sampled
    min_per_tensor: int = 50          # linearity: at least this many weights per tensor
    texts: Optional[str] = None       # linearity: file with one sequence per line to teacher-force
    num_texts: int = 8                # linearity: sequences sampled from the first checkpoint when texts is None
    data: str = "math500"             # linearity: benchmark whose questions prompt those samples (or a .jsonl path)
    template: str = "qwen_boxed"      # linearity: prompt template (rlvr.data.eval_sets.TEMPLATES)


def apply_seed_scope(cfg) -> None:
    """trainer.seed_scope=run: the run's seed also draws the embedded model's init, its warm start, the prompt
    stream and the held-out problems, so runs with different seeds differ in all that varies between real runs."""
    if cfg.trainer.seed_scope == "run":
        seed = cfg.trainer.seed
        cfg.model.seed = cfg.model.warm_start.seed = cfg.data.seed = seed


TRAIN_GROUPS = ("model", "data", "reward", "rollout", "trainer", "optim", "learner", "logger", "cluster")


def register_evaluate_config() -> None:
    ConfigStore.instance().store(name="evaluate_schema", node=EvaluateConfig)


@contextmanager
def without_training_groups():
    """Hide the training config's groups from Hydra while composing the evaluator: its plain keys `model=` and
    `data=` would otherwise be taken for group choices ("Could not override 'data'")."""
    repo = ConfigStore.instance().repo
    hidden = {g: repo.pop(g) for g in TRAIN_GROUPS if g in repo}
    try:
        yield
    finally:
        repo.update(hidden)


def register_extrapolate_config() -> None:
    ConfigStore.instance().store(name="extrapolate_schema", node=ExtrapolateConfig)


def register_configs() -> None:
    cs = ConfigStore.instance()
    cs.store(name="rlvr_schema", node=RLVRConfig)
    register_evaluate_config()
    register_extrapolate_config()
    for group, node in [("model", ModelConfig), ("data", DataConfig), ("reward", RewardConfig),
                        ("rollout", RolloutConfig), ("trainer", TrainerConfig), ("optim", OptimConfig),
                        ("learner", LearnerConfig), ("logger", LoggerConfig),
                        ("cluster", ClusterConfig)]:
        cs.store(group=group, name=f"{group}_schema", node=node)
    from rlvr.algorithms import OBJECTIVES
    from rlvr.algorithms.base import config_schema

    for name, objective in OBJECTIVES.items():
        cs.store(group="algorithm", name=f"{name}_schema", node=config_schema(objective))


def _conf_dir():
    """The Hydra config tree: conf/ of a source checkout (where users edit it), else the copy shipped inside the
    installed package as rlvr/conf (setup.py maps it), so `pip install .` works outside the checkout."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    checkout = here.parent / "conf"
    return checkout if (checkout / "config.yaml").is_file() else here / "conf"


CONF_DIR = _conf_dir()
# The evaluator's own root: its keys `model=` / `data=` would otherwise be read as the training config's groups.
EVAL_CONF_DIR = CONF_DIR / "evaluate"
EXTRAPOLATE_CONF_DIR = CONF_DIR / "extrapolate"   # likewise its own root (data= is a plain key there)


def compose(overrides: list[str] | None = None, config_name: str = "config", config_dir=None):
    """Compose the config outside @hydra.main (tests, notebooks, the evaluator)."""
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir or CONF_DIR), version_base="1.3"):
        if config_name in ("evaluate", "extrapolate"):
            with without_training_groups():
                return hydra_compose(config_name=config_name, overrides=overrides or [])
        return hydra_compose(config_name=config_name, overrides=overrides or [])
