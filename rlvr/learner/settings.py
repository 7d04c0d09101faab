"""Everything a Learner is built with: the `optim` and `learner` config nodes as they are, plus what the run decides
(steps, seed, device, the engines' dtype, the rank)."""
from __future__ import annotations

from dataclasses import dataclass


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
    dtype: str = "float32"                  # compute dtype (model.dtype): bf16 autocast / FSDP param dtype
    seed: int = 0
    critic_lr: float = 1e-5
    num_threads: int | None = None
    master_dtype: str = "float32"           # parameters and AdamW state (fp32 so a 1e-6 step is not rounded away)
    export_dtype: str | None = None         # weights sent to the engines; None = the compute dtype
    max_tokens_per_micro_batch: int | None = None  # token-budget micro-batches (None: micro_batch_size rows)
    padding_free: bool = False              # each micro-batch as one packed row (position ids restart per sequence)
    logprob_chunk_tokens: int = 1024        # tokens per lm_head chunk in the log-prob/entropy path
    gradient_checkpointing: bool = False    # recompute decoder layers in the backward
    compile: bool = False                   # torch.compile each decoder layer
    reuse_update_forward: bool = True       # a batch without old log-probs takes them from the update's forward
    skip_zero_advantage: bool = False       # rows with all-zero advantages skip the forward/backward (inert loss)
    is_cap: float | None = None             # trainer.is_cap, for the importance weights computed in the update
    fused_adamw: bool | None = None         # None = fused on CUDA, plain elsewhere
    world_size: int = 1                     # data-parallel learner ranks (FSDP2)
    rank: int = 0
    dist_init_method: str | None = None     # e.g. tcp://host:port; None = env:// (MASTER_ADDR/PORT)
    dist_backend: str | None = None         # None = nccl on CUDA, gloo on CPU

    @classmethod
    def from_config(cls, cfg, rollout_temperature: float, **overrides) -> "LearnerSettings":
        """The `optim` and `learner` nodes as they are, plus what the run decides (steps, seed, device, threads,
        the engines' dtype, the learner ranks)."""
        from omegaconf import OmegaConf

        optim, learner = (OmegaConf.to_container(cfg[k], resolve=True) for k in ("optim", "learner"))
        return cls(**{**optim, "betas": tuple(optim["betas"])}, **learner, total_steps=cfg.trainer.steps,
                   seed=cfg.trainer.seed, rollout_temperature=rollout_temperature, device=cfg.cluster.device,
                   num_threads=int(cfg.cluster.num_cpus) if cfg.cluster.num_cpus else None,
                   export_dtype=cfg.rollout.dtype, world_size=cfg.cluster.learner_world_size,
                   is_cap=cfg.trainer.is_cap, **overrides)
