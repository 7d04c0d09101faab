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
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from rlvr.algorithms import Objective
from rlvr.batch import PaddedBatch, TrainBatch, pad_batch
from rlvr.infra.hf_weights import with_lm_head
from rlvr.learner import distributed
from rlvr.learner.logprobs import ResponseScorer
from rlvr.learner.micro_batches import minibatches, rank_plan
from rlvr.learner.rollout_scoring import minibatch_statistic, score_rollouts
from rlvr.learner.schedule import lr_lambda
from rlvr.learner.settings import LearnerSettings
from rlvr.learner.tensor_batch import MicroBatch, TensorBatch, check_finished
from rlvr.learner.update_metrics import UpdateMetrics
from rlvr.rollout.engine import teacher_forced_logprobs


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
        self.critic = None
        if self.needs.critic:
            from rlvr.learner.critic import Critic

            self.critic = Critic(model_path, self.device, settings.critic_lr, self.master_dtype, self.dtype,
                                 sharded=self.dist.active)
        fused = settings.fused_adamw if settings.fused_adamw is not None else self.device.type == "cuda"
        self.optimizer = torch.optim.AdamW(self.scorer.parameters(), lr=settings.lr, betas=tuple(settings.betas),
                                           weight_decay=settings.weight_decay, **({"fused": True} if fused else {}))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lr_lambda(settings.warmup_steps, settings.schedule, settings.total_steps))
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
            got[packed] = self.forward(self.scorer, pb, want_logits=False)["logprobs"]
        self.scorer.padding_free = True
        self.scorer.train()
        err = float((got[True] - got[False]).abs().max())
        tol = 1e-4 if self.dtype == torch.float32 else 5e-2
        if not err <= tol:
            raise ValueError(
                f"learner.padding_free=true: {type(self.model).__name__} with attn_implementation="
                f"{self.model.config._attn_implementation!r} scores packed sequences differently from padded ones "
                f"(max log-prob difference {err:.2e}), so its attention does not separate packed sequences. Set "
                f"learner.padding_free=false, or use attn_implementation flash_attention_2 / sdpa with a "
                f"transformers version that reads packed position ids.")

    def autocast(self):
        """bf16 compute over fp32 master weights on one rank (FSDP's policy casts instead on several)."""
        if self.dtype == self.master_dtype or self.dist.active:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    # ----------------------------------------------------------------------------------------------- forward passes
    def forward(self, scorer, pb: PaddedBatch, want_logits: bool, want_entropy: bool = False) -> dict:
        """[b, T] log-probs at the training temperature (0 at padding), by the chunked path; optionally entropy and
        the [b, T, V] fp32 logits (only objectives with Needs.full_logits ask for those)."""
        with self.autocast():
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
    def score_rollouts(self, batch: TrainBatch, objective: Objective | None = None) -> dict[str, Any]:
        """Old-policy and reference log-probs and critic values for the driver's advantages (rlvr.learner.
        rollout_scoring)."""
        return score_rollouts(self, batch, objective or self.objective)

    def plan(self, rows: list[int], batch: TrainBatch) -> list[list[int]]:
        """This rank's micro-batches of `rows` (rlvr.learner.micro_batches.rank_plan)."""
        s = self.settings
        lengths = [len(p) + len(r) for p, r in zip(batch.prompt_ids, batch.response_ids)]
        return rank_plan(rows, lengths, self.dist.rank, self.dist.world_size, s.micro_batch_size,
                         s.max_tokens_per_micro_batch, packed=s.padding_free)

    # ------------------------------------------------------------------------------------------------- the update
    def update(self, batch: TrainBatch, step: int, objective: Objective | None = None) -> dict[str, float]:
        """One rollout step's worth of optimizer steps (mini-batches x epochs, micro-batch accumulation) on a batch
        the driver finished: advantages present for rollouts, and old log-probs unless the update is one optimizer
        step, whose own forward then gives them (rlvr.step.scoring_pass_needed).

        With several ranks, every rank gets the whole batch and takes its share of each mini-batch.
        learner.skip_zero_advantage: rows whose advantages are all 0 (all-equal groups in GRPO, the other sign in
        PSR/NSR) are left out of the forward and backward when the objective is inert there; the normalisers stay the
        mini-batch's, so the step is the same up to float summation order."""
        objective = objective or self.objective
        s = self.settings
        own_old = check_finished(batch, objective, s.reuse_update_forward and s.epochs == 1, s.mini_batch_prompts)
        is_cap = s.is_cap if objective.importance_weighted else None
        tb = TensorBatch(batch, self.pad_id, self.device)
        report = UpdateMetrics(self.dist)
        if own_old:  # every rank reports the same metrics, even one short of rows
            for name in tb.old_logprob_metrics(is_cap):
                report.add_token_sum(name, 0.0, 0.0)
        generator = torch.Generator().manual_seed(s.seed * 1_000_003 + step)
        skip = s.skip_zero_advantage and objective.inert_at_zero_advantage
        rows_total = rows_skipped = 0
        for rows in minibatches(batch.group_ids, s.mini_batch_prompts, s.epochs, generator):
            global_tokens, global_seqs = tb.normalisers(rows)  # the whole mini-batch's, skipped rows included
            trained = tb.rows_with_signal(rows) if skip else rows
            rows_total, rows_skipped = rows_total + len(rows), rows_skipped + len(rows) - len(trained)
            plan = self.plan(trained, batch)
            if objective.needs.minibatch_statistic:
                objective.begin_minibatch(*minibatch_statistic(self, objective, tb.padded, plan))
            self.optimizer.zero_grad(set_to_none=True)
            if self.critic is not None:
                self.critic.zero_grad()
            minibatch_loss = 0.0
            for mb in plan:
                # A rank short of micro-batches runs a zero-weight one (FSDP's collectives stay in step).
                micro = tb.rows(mb or rows[:1])
                loss, metrics, entropy = self._backward(objective, micro, global_tokens, global_seqs,
                                                        weight=1.0 if mb else 0.0,
                                                        own_old=own_old, is_cap=is_cap,
                                                        report=report if mb else None)
                if mb:
                    report.add_micro_batch(metrics, entropy, micro.padded.mask)
                    minibatch_loss += loss  # micro-batch losses are partial sums of the mini-batch loss
            grad_norm = torch.nn.utils.clip_grad_norm_(self.scorer.parameters(), s.grad_clip)
            report.add_optimizer_step(minibatch_loss, grad_norm)
            self.optimizer.step()
            if self.critic is not None:
                self.critic.step(s.grad_clip)
        self.scheduler.step()
        if objective.needs.minibatch_statistic:
            objective.begin_minibatch(None, 0)
        result = report.result(lr=self.scheduler.get_last_lr()[0])
        if skip:
            result["skipped_row_fraction"] = rows_skipped / max(1, rows_total)
        return result

    def _backward(self, objective: Objective, micro: MicroBatch, global_tokens: float, global_seqs: float,
                  weight: float, own_old: bool = False, is_cap: float | None = None,
                  report: UpdateMetrics | None = None) -> tuple[float, dict, torch.Tensor]:
        """The objective's loss (and the critic's) on one micro-batch, backpropagated with `weight`. With `own_old`,
        the old log-probs (and importance weights capped at `is_cap`) come from this forward."""
        full_logits = objective.needs.full_logits
        out = self.forward(self.scorer, micro.padded, want_logits=full_logits, want_entropy=True)
        if own_old:
            for name, (total, tokens) in micro.old_logprobs_from(out["logprobs"], is_cap).items():
                if report is not None:
                    report.add_token_sum(name, total, tokens)
        ref = None
        if self.reference is not None and full_logits:
            with torch.no_grad():  # full reference logits only per micro-batch (ASFT's KL)
                ref = self.forward(self.reference, micro.padded, want_logits=True)
        li = micro.loss_inputs(out, ref, global_tokens, global_seqs)
        loss, metrics = objective.loss(li)
        (loss * weight).backward()
        if self.critic is not None:
            with self.autocast():
                li.values = self.critic.values(micro.padded)
            li.old_values, li.returns = micro.fields["values"], micro.fields["returns"]
            closs, critic_metrics = objective.critic_loss(li)
            (closs * weight).backward()
            metrics = {**metrics, **critic_metrics, "critic_loss": float(closs.detach())}
        return float(loss.detach()), metrics, out["entropy"]

    # ------------------------------------------------------------------------------------- checkpoint/resume state
    def training_state(self) -> dict[str, Any]:
        """The schedule, and the critic with its AdamW state on one rank (several ranks shard them: save_sharded)."""
        state = {"scheduler": self.scheduler.state_dict()}
        if self.critic is not None and not self.dist.active:
            state.update(self.critic.state_dict())
        return state

    def sharded_parts(self) -> dict[str, tuple[torch.nn.Module, torch.optim.Optimizer]]:
        """The modules and optimizers whose state each rank holds a shard of (rlvr.learner.sharded_checkpoint)."""
        parts = {"policy": (self.scorer, self.optimizer)}
        if self.critic is not None:
            parts["critic"] = (self.critic.model, self.critic.optimizer)
        return parts

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state["scheduler"])
        if self.critic is not None and "critic" in state:
            self.critic.load_state_dict(state)
