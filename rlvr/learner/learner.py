"""The learner: owns the policy (plus the frozen reference and the critic when the objective declares them),
the optimizer and the schedule. Two calls per step: `score_rollouts` (the no-grad old/reference/value pass the driver
needs for advantages) and `update` (optimizer steps on a batch whose advantages the driver already computed).

The objective is built once, on the driver, and passed in by value: the learner never estimates advantages and
never keeps objective state of its own (what on_rollout sets, e.g. SIREN's anchor, goes back to the driver).
The objective never sees models, only tensors (rlvr.algorithms.base.LossInputs); the learner never sees formulas.

At scale: parameters and AdamW state stay in `master_dtype` (fp32) while the forward/backward run in the
compute `dtype` (bf16 autocast on one rank, FSDP2's MixedPrecisionPolicy on several), loss math in fp32; log-probs
come from the chunked lm_head path (rlvr.learner.logprobs), never [B, T, V] fp32 logits, except for objectives that
take full logits (Needs.full_logits: SIREN, ASFT, an entropy bonus), which still get them per micro-batch;
micro-batches can be packed to a token budget (rlvr.learner.micro_batches); N ranks shard the model with FSDP2
(rlvr.learner.distributed).
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlvr.algorithms import LossInputs, Objective
from rlvr.batch import PaddedBatch, TrainBatch, pad_batch
from rlvr.infra.hf_weights import with_lm_head
from rlvr.learner import distributed
from rlvr.learner.logprobs import ResponseScorer
from rlvr.learner.micro_batches import plan_micro_batches, rank_rows
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
    fused_adamw: bool | None = None         # None = fused on CUDA, plain elsewhere
    world_size: int = 1                     # data-parallel learner ranks (FSDP2)
    rank: int = 0
    dist_init_method: str | None = None     # e.g. tcp://host:port; None = env:// (MASTER_ADDR/PORT)
    dist_backend: str | None = None         # None = nccl on CUDA, gloo on CPU

    @classmethod
    def from_config(cls, cfg, rollout_temperature: float, **overrides) -> "LearnerSettings":
        """The learner's settings from the composed Hydra config (trainer, model, algorithm, cluster nodes)."""
        t, m = cfg.trainer, cfg.model
        return cls(
            lr=t.lr, weight_decay=t.weight_decay, betas=tuple(t.betas), warmup_steps=t.warmup_steps,
            schedule=t.schedule, total_steps=t.steps, grad_clip=t.grad_clip, mini_batch_prompts=t.mini_batch_prompts,
            micro_batch_size=t.micro_batch_size, epochs=t.epochs, rollout_temperature=rollout_temperature,
            device=t.device, dtype=m.dtype, seed=t.seed, critic_lr=float(cfg.algorithm.get("critic_lr", 1e-5)),
            num_threads=int(cfg.cluster.num_cpus) if cfg.cluster.num_cpus else None,
            master_dtype=m.get("master_dtype", "float32"), export_dtype=cfg.rollout.get("dtype"),
            max_tokens_per_micro_batch=t.get("max_tokens_per_micro_batch"), padding_free=t.get("padding_free", False),
            logprob_chunk_tokens=t.get("logprob_chunk_tokens", 1024),
            gradient_checkpointing=m.get("gradient_checkpointing", False), compile=m.get("compile", False),
            fused_adamw=t.get("fused_adamw"), world_size=cfg.cluster.get("learner_world_size", 1), **overrides)


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
        self.dtype = getattr(torch, settings.dtype)                 # compute
        self.master_dtype = getattr(torch, settings.master_dtype)   # parameters, gradients, AdamW state
        self.export_dtype = getattr(torch, settings.export_dtype or settings.dtype)
        self.dist = distributed.init_distributed(settings.rank, settings.world_size, settings.dist_init_method,
                                                 settings.dist_backend, self.device)
        self.objective = objective
        self.needs = objective.needs
        self.model_path = model_path
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.pad_id = self.tokenizer.pad_token_id
        self.model = self._load_policy(model_path)
        self.scorer = self._prepare(ResponseScorer(self.model, settings.padding_free))
        self.model.train()
        self.reference = None
        if self.needs.reference_model:
            ref = ResponseScorer(self._load_policy(model_path, for_training=False), settings.padding_free)
            self.reference = self._prepare(ref).eval().requires_grad_(False)
        self.critic = self.critic_optimizer = None
        if self.needs.critic:
            from rlvr.learner.critic import ValueModel

            self.critic = ValueModel(model_path, self.master_dtype).to(self.device)
            if self.dist.active:  # sharded like the policy; its gradients summed over ranks the same way
                distributed.shard(self.critic, distributed.decoder_layers(self.critic.backbone), self.dtype,
                                  self.master_dtype)
            self.critic_optimizer = torch.optim.AdamW(self.critic.parameters(), lr=settings.critic_lr)
        fused = settings.fused_adamw if settings.fused_adamw is not None else self.device.type == "cuda"
        self.optimizer = torch.optim.AdamW(self.scorer.parameters(), lr=settings.lr, betas=tuple(settings.betas),
                                           weight_decay=settings.weight_decay, **({"fused": True} if fused else {}))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda(settings))
        # The temperature the loss is computed at: the rollout's (verl), unless the objective decouples it (OSFT).
        self.train_temperature = (self.needs.train_temperature if self.needs.train_temperature is not None
                                  else settings.rollout_temperature)
        if settings.padding_free:
            self._check_padding_free()

    # ------------------------------------------------------------------------------------------------- building
    def _load_policy(self, model_path: str, for_training: bool = True):
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=self.master_dtype).to(self.device)
        if for_training and self.settings.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        return model

    def _prepare(self, scorer: ResponseScorer) -> ResponseScorer:
        """Shard (several ranks) and compile (if asked) a scorer."""
        if self.settings.compile:
            for layer in distributed.decoder_layers(scorer.lm):
                layer.compile()
        if self.dist.active:
            distributed.shard(scorer, distributed.decoder_layers(scorer.lm), self.dtype, self.master_dtype)
        return scorer

    @torch.no_grad()
    def _check_padding_free(self) -> None:
        """Packed rows must score like padded ones: a backbone whose attention ignores restarting position ids
        would let packed sequences attend to each other. Checked once on two probe sequences of different length."""
        probe = TrainBatch(prompt_ids=[[1, 5, 6, 7], [1, 8]], response_ids=[[9, 10, 11], [12, 13, 14, 15, 16]],
                           group_ids=[0, 1])
        pb = pad_batch(probe, self.pad_id).to(self.device)
        self.scorer.eval()
        got = {}
        for packed in (False, True):
            self.scorer.padding_free = packed
            got[packed] = self._forward(self.scorer, pb, want_logits=False)["logprobs"]
        self.scorer.padding_free = True
        self.scorer.train()
        err = float((got[True] - got[False]).abs().max())
        tol = 1e-4 if self.dtype == torch.float32 else 5e-2
        if not err <= tol:
            raise ValueError(
                f"trainer.padding_free=true: {type(self.model).__name__} with attn_implementation="
                f"{self.model.config._attn_implementation!r} scores packed sequences differently from padded ones "
                f"(max log-prob difference {err:.2e}), so its attention does not separate packed sequences. Set "
                f"trainer.padding_free=false, or use attn_implementation flash_attention_2 / sdpa with a "
                f"transformers version that reads packed position ids.")

    def _autocast(self):
        """bf16 compute over fp32 master weights on one rank (FSDP's policy casts instead on several)."""
        if self.dtype == self.master_dtype or self.dist.active:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    # ----------------------------------------------------------------------------------------------- forward passes
    def _forward(self, scorer, pb: PaddedBatch, want_logits: bool, want_entropy: bool = False) -> dict:
        """[b, T] log-probs at the training temperature (0 at padding), by the chunked path; optionally entropy and
        the [b, T, V] fp32 logits (only objectives with Needs.full_logits ask for those)."""
        with self._autocast():
            return scorer(pb.input_ids, pb.attention_mask, pb.positions, pb.response_ids, pb.mask,
                          temperature=self.train_temperature, chunk_tokens=self.settings.logprob_chunk_tokens,
                          want_entropy=want_entropy, full_logits=want_logits)

    @torch.no_grad()
    def score(self, sequences: list[list[int]]) -> list[list[float]]:
        """Teacher-forced log-probs at temperature 1 of the weights the engines receive (named_weights), so the
        weight-sync check compares like with like whatever the master/compute dtypes. A collective with several
        ranks (rank 0 answers)."""
        exact = not self.dist.active and self.export_dtype == self.master_dtype == self.dtype
        model = self.model if exact else self._export_model()
        if model is None:
            return []
        model.eval()
        out = teacher_forced_logprobs(lambda x: model(input_ids=x).logits, sequences, self.device)
        model.train()
        return out

    def _export_model(self):
        """A model built the way the engines build theirs (from the checkpoint, in the export dtype; a cast of the
        master model would also cast the rotary buffers), holding the tensors named_weights exports. None on
        ranks other than 0."""
        weights = self.named_weights()
        if self.dist.rank != 0:
            return None
        model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=self.export_dtype)
        model.load_state_dict(weights, strict=False)
        return model.to(self.device)

    def named_weights(self) -> dict[str, torch.Tensor]:
        """Every tensor of the HF state dict in the export dtype, lm_head.weight included even when tied (vLLM
        needs it). With several ranks a collective: every rank must call it; rank 0 returns the weights."""
        if self.dist.active:
            state = distributed.full_state_dict(self.scorer)
            if self.dist.rank != 0:
                return {}
        else:
            state = {k: v.detach() for k, v in self.model.state_dict().items()}
        return with_lm_head({k: v.to("cpu", self.export_dtype) for k, v in state.items()})

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        if self.dist.active:
            distributed.load_full_state_dict(self.scorer, state)
            return
        own = self.model.state_dict()
        self.model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items() if k in own})

    # ------------------------------------------------------------------------------------- the no-grad scoring pass
    @torch.no_grad()
    def score_rollouts(self, batch: TrainBatch, objective: Objective | None = None) -> dict[str, Any]:
        """Old-policy and reference log-probs and critic values [B, T] (on CPU), in micro-batches, for the driver's
        advantage estimation; also runs the objective's on_rollout hook and returns its state.

        Several ranks split the rows and gather the results (every rank returns the whole batch)."""
        objective = objective or self.objective
        # Logits only for a rollout statistic the objective still wants (SIREN's anchor, once), one micro-batch at a
        # time: the statistic is a (sum, count) that adds up over micro-batches and ranks.
        want_statistic = objective.wants_rollout_statistic()
        statistic = [0.0, 0.0]
        pb = pad_batch(batch, self.pad_id).to(self.device)
        B, T = pb.mask.shape
        out = {"old_logprobs": pb.mask.new_zeros(B, T)}
        if self.reference is not None:
            out["ref_logprobs"] = pb.mask.new_zeros(B, T)
        if self.critic is not None:
            out["values"] = pb.mask.new_zeros(B, T)
        self.scorer.eval()
        for rows in self._plan(list(range(B)), batch):
            mi = torch.tensor(rows or [0], device=self.device)
            mpb = _rows(pb, mi)
            t = mpb.mask.shape[1]
            got = {"old_logprobs": self._forward(self.scorer, mpb, want_logits=want_statistic)}
            if self.reference is not None:
                got["ref_logprobs"] = self._forward(self.reference, mpb, want_logits=False)
            values = None
            if self.critic is not None:
                with self._autocast():
                    values = self._values(mpb)
            if not rows:  # a rank short of micro-batches keeps FSDP's collectives in step; result unused
                continue
            if want_statistic:
                part, count = objective.statistic_part(got["old_logprobs"]["logits"], mpb.mask)
                statistic = [statistic[0] + part, statistic[1] + count]
            for k, v in got.items():
                out[k][mi, :t] = v["logprobs"]
            if values is not None:
                out["values"][mi, :t] = values
        self.scorer.train()
        if self.dist.active:  # each rank filled its own rows (zeros elsewhere): the sum is the whole batch
            for v in out.values():
                torch.distributed.all_reduce(v)
        if want_statistic:
            total, count = self.dist.sum(statistic)
            objective.on_rollout_statistic(total, int(count))
        objective.on_rollout(LossInputs(
            logprobs=out["old_logprobs"], mask=pb.mask, global_tokens=float(pb.mask.sum()),
            global_seqs=float(len(batch)), old_logprobs=out["old_logprobs"],
            ref_logprobs=out.get("ref_logprobs"), values=out.get("values")))
        out = {k: v.cpu() for k, v in out.items()}
        out["objective_state"] = objective.state_dict()
        return out

    def _plan(self, rows: list[int], batch: TrainBatch) -> list[list[int]]:
        """This rank's micro-batches of `rows` (a mini-batch or the whole batch), padded with empty ones to the
        most any rank has, so that every rank runs the same number of forward/backward passes."""
        s = self.settings
        lengths = [len(p) + len(r) for p, r in zip(batch.prompt_ids, batch.response_ids)]
        plans = [plan_micro_batches(rank_rows(rows, r, self.dist.world_size), lengths, s.micro_batch_size,
                                    s.max_tokens_per_micro_batch, packed=s.padding_free)
                 for r in range(self.dist.world_size)]
        mine = plans[self.dist.rank]
        return mine + [[] for _ in range(max(len(p) for p in plans) - len(mine))]

    # ------------------------------------------------------------------------------------------------- the update
    def update(self, batch: TrainBatch, step: int, objective: Objective | None = None) -> dict[str, float]:
        """One rollout step's worth of optimizer steps (mini-batches x epochs, micro-batch accumulation) on a batch
        the driver finished: old log-probs and advantages present for rollouts (see score_rollouts).

        With several ranks, every rank gets the whole batch and takes its share of each mini-batch."""
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
        full_logits = objective.needs.full_logits
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
                rows = [i for i, g in enumerate(batch.group_ids) if g in chosen]
                idx_t = torch.tensor(rows, device=self.device)
                global_tokens = float(pb.mask[idx_t].sum())
                # Empty responses have nothing to average: they do not count as sequences (§12b.6).
                global_seqs = float((pb.mask[idx_t].sum(-1) > 0).sum())
                plan = self._plan(rows, batch)
                if objective.needs.minibatch_statistic:
                    objective.begin_minibatch(*self._minibatch_statistic(objective, pb, plan))
                self.optimizer.zero_grad(set_to_none=True)
                if self.critic_optimizer is not None:
                    self.critic_optimizer.zero_grad(set_to_none=True)
                mb_loss = 0.0
                for mb in plan:
                    # A rank short of micro-batches runs a zero-weight one (FSDP's collectives stay in step).
                    weight = 1.0 if mb else 0.0
                    mi = torch.tensor(mb or rows[:1], device=self.device)
                    mpb = _rows(pb, mi)
                    t = mpb.mask.shape[1]
                    cut = lambda x: None if x is None else x[mi, :t]  # noqa: E731
                    out = self._forward(self.scorer, mpb, want_logits=full_logits, want_entropy=True)
                    ref = None
                    if self.reference is not None and full_logits:
                        with torch.no_grad():  # full reference logits only per micro-batch (ASFT's KL)
                            ref = self._forward(self.reference, mpb, want_logits=True)
                    li = LossInputs(
                        logprobs=out["logprobs"], mask=mpb.mask, global_tokens=global_tokens,
                        global_seqs=global_seqs, old_logprobs=cut(old_lp), advantages=cut(advantages),
                        ref_logprobs=cut(ref_lp) if ref_lp is not None or ref is None else ref["logprobs"],
                        logits=out.get("logits"), ref_logits=None if ref is None else ref["logits"],
                        is_weights=cut(is_weights),
                        positive=None if positive is None else positive[mi],
                        group_accuracy=None if group_rate is None else group_rate[mi])
                    loss, m = objective.loss(li)
                    (loss * weight).backward()
                    critic_metrics = {}
                    if self.critic is not None:
                        with self._autocast():
                            li.values = self._values(mpb)
                        li.old_values, li.returns = cut(values), cut(returns)
                        closs, cm = objective.critic_loss(li)
                        (closs * weight).backward()
                        critic_metrics = {**cm, "critic_loss": float(closs.detach())}
                    if not mb:
                        continue
                    _accumulate(sums, counts, {**m, **critic_metrics})
                    mb_loss += float(loss.detach())  # micro-batch losses are partial sums of the mini-batch loss
                    entropy_sum += float((out["entropy"].detach() * mpb.mask).sum())
                    entropy_tokens += float(mpb.mask.sum())
                mb_losses.append(self.dist.sum([mb_loss])[0])
                grad_norms.append(_total(torch.nn.utils.clip_grad_norm_(self.scorer.parameters(), s.grad_clip)))
                self.optimizer.step()
                if self.critic_optimizer is not None:
                    torch.nn.utils.clip_grad_norm_(self.critic.parameters(), s.grad_clip)
                    self.critic_optimizer.step()
                n_opt_steps += 1
        self.scheduler.step()
        if objective.needs.minibatch_statistic:
            objective.begin_minibatch(None, 0)
        metrics = _merge_rank_metrics(self.dist, sums, counts)
        entropy_sum, entropy_tokens = self.dist.sum([entropy_sum, entropy_tokens])
        metrics.update(entropy=entropy_sum / max(1.0, entropy_tokens), loss=sum(mb_losses) / max(1, len(mb_losses)),
                       grad_norm=sum(grad_norms) / max(1, len(grad_norms)), optimizer_steps=float(n_opt_steps),
                       lr=self.scheduler.get_last_lr()[0])
        return metrics

    @torch.no_grad()
    def _minibatch_statistic(self, objective: Objective, pb: PaddedBatch, plan: list[list[int]]
                             ) -> tuple[float, int]:
        """The objective's statistic over the whole mini-batch at the current weights (SIREN's selected entropy),
        measured in a no-grad pass before the micro-batches' losses so that they can add it exactly (summed over
        ranks)."""
        total, count = 0.0, 0
        for mb in plan:
            mpb = _rows(pb, torch.tensor(mb or [0], device=self.device))
            logits = self._forward(self.scorer, mpb, want_logits=True)["logits"]
            if mb:
                part, n = objective.statistic_part(logits, mpb.mask)
                total, count = total + part, count + n
        total, count = self.dist.sum([total, count])
        return total, int(count)

    def _values(self, pb: PaddedBatch) -> torch.Tensor:
        return self.critic(pb.input_ids, pb.attention_mask).gather(1, pb.positions) * pb.mask

    # ------------------------------------------------------------------------------------- checkpoint/resume state
    def training_state(self) -> dict[str, Any]:
        """The schedule, and the critic with its AdamW state on one rank (several ranks shard them: save_sharded)."""
        state = {"scheduler": self.scheduler.state_dict()}
        if self.critic is not None and not self.dist.active:
            state["critic"] = self.critic.state_dict()
            state["critic_optimizer"] = self.critic_optimizer.state_dict()
        return state

    def save_sharded(self, directory: str | Path) -> None:
        """Model and AdamW state as each rank holds them (torch.distributed.checkpoint, no rank gathers the whole),
        plus the schedule and critic (rank 0). A collective: every rank calls it with the same directory."""
        directory = Path(directory)
        distributed.save_sharded(directory / "sharded", self._sharded_parts())
        if self.dist.rank == 0:
            torch.save(self.training_state(), directory / "learner_state.pt")
        self.dist.barrier()

    def load_sharded(self, directory: str | Path) -> None:
        directory = Path(directory)
        distributed.load_sharded(directory / "sharded", self._sharded_parts())
        self.load_training_state(torch.load(directory / "learner_state.pt", weights_only=True))

    def _sharded_parts(self) -> dict[str, tuple[torch.nn.Module, torch.optim.Optimizer]]:
        parts = {"policy": (self.scorer, self.optimizer)}
        if self.critic is not None:
            parts["critic"] = (self.critic, self.critic_optimizer)
        return parts

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


def _merge_rank_metrics(ctx: distributed.DistContext, sums: dict[str, float], counts: dict[str, int]
                        ) -> dict[str, float]:
    merged_sums: dict[str, float] = {}
    merged_counts: dict[str, int] = {}
    for s, c in ctx.gather((sums, counts)):
        for k, v in s.items():
            merged_sums[k] = merged_sums.get(k, 0.0) + v
            merged_counts[k] = merged_counts.get(k, 0) + c[k]
    return {k: v / merged_counts[k] for k, v in merged_sums.items()}


def _total(norm: torch.Tensor) -> float:
    """clip_grad_norm_'s result as a float (a DTensor under FSDP)."""
    return float(norm.full_tensor() if hasattr(norm, "full_tensor") else norm)


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
