"""rlvr's learner against TRL's GRPOTrainer loss, a peer we did not write. The same model, the same prompts and
completions (prompts of different lengths), the same advantages, old log-probs off the current policy (so the
ratio is not 1 and clipping acts) and reference log-probs: the loss value and every parameter's gradient must agree,
for each loss type TRL shares with us (grpo = seq-mean-token-mean, dr_grpo = token sum / (B x L), dapo =
token-mean), with the k3 KL term and the entropy bonus.

What is compared is the update's formula and its log-probs. The advantages are given to both sides, because the
two compute them differently: TRL adds 1e-4 to the group std, rlvr 1e-6 (docs/peer_trl.md maps every setting).
TRL 1.16 multiplies the k3 term by the importance ratio by default (`use_bias_correction_kl`); rlvr's k3 is
verl's, without it, so the comparison turns it off (the two agree at ratio 1, one optimizer step per batch).
The entropy bonus is compared under dapo only: TRL averages the entropy over tokens whatever the loss type, and
rlvr (as verl does) aggregates it with the loss's own mode, so under grpo the two bonuses are different terms.
"""
import math

import pytest
import torch

from rlvr.algorithms import build_objective
from rlvr.batch import TrainBatch
from rlvr.learner.learner import Learner, LearnerSettings

trl = pytest.importorskip("trl")

PROMPTS = [[1, 20, 21, 22], [1, 23], [1, 24, 25]]
COMPLETIONS = [[30, 31, 2], [30, 32, 33, 34, 2], [35], [36, 37],  # group 0
               [38, 2], [39, 40, 41], [42, 43, 44, 45, 46, 2], [47],  # group 1
               [48, 49], [50, 2], [51, 52, 53], [54, 55, 56, 57]]  # group 2
G = 4
L_MAX = 8
TEMPERATURE = 0.7
CASES = {  # our algorithm config -> TRL's GRPOConfig fields
    "grpo": ({"kl_loss_coef": 0.05, "kl_loss_type": "k3"},
             {"loss_type": "grpo", "beta": 0.05, "use_bias_correction_kl": False}),
    "dr_grpo": ({"max_response_length": L_MAX}, {"loss_type": "dr_grpo", "beta": 0.0}),
    "dapo": ({"max_response_length": L_MAX, "clip_ratio_c": None, "entropy_coeff": 0.01, "kl_loss_coef": 0.02, "kl_loss_type": "k3"},
             {"loss_type": "dapo", "beta": 0.02, "entropy_coef": 0.01, "use_bias_correction_kl": False}),
}


def _padded(rows: list[list[int]], left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids, mask = torch.zeros(len(rows), width, dtype=torch.long), torch.zeros(len(rows), width, dtype=torch.long)
    for i, r in enumerate(rows):
        span = slice(width - len(r), width) if left else slice(0, len(r))
        ids[i, span], mask[i, span] = torch.tensor(r), 1
    return ids, mask


def _per_token_logps(model, prompt_ids, prompt_mask, completion_ids, completion_mask) -> torch.Tensor:
    """log p(completion token) at TEMPERATURE under `model`, no grad: the fixture's old and reference log-probs."""
    with torch.no_grad():
        ids = torch.cat([prompt_ids, completion_ids], 1)
        attn = torch.cat([prompt_mask, completion_mask], 1)
        positions = (attn.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids, attention_mask=attn, position_ids=positions).logits.float() / TEMPERATURE
        T = completion_ids.shape[1]
        logp = torch.log_softmax(logits[:, -T - 1:-1], -1).gather(-1, completion_ids[..., None]).squeeze(-1)
    return logp * completion_mask


@pytest.mark.parametrize("algorithm", sorted(CASES))
def test_the_learner_update_equals_trl_grpo_trainers_loss_and_gradient(tiny_model_dir, tmp_path, algorithm):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    ours_cfg, trl_cfg = CASES[algorithm]
    B = len(COMPLETIONS)
    prompts = [PROMPTS[b // G] for b in range(B)]
    prompt_ids, prompt_mask = _padded(prompts, left=True)  # TRL's layout: prompts left-padded, completions right
    completion_ids, completion_mask = _padded(COMPLETIONS, left=False)
    gen = torch.Generator().manual_seed(0)
    advantages = torch.randn(B, generator=gen)
    advantages[G:2 * G] = 0.0  # a group whose rewards were all equal

    args = GRPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=B, num_generations=G,
                      max_completion_length=L_MAX, temperature=TEMPERATURE, epsilon=0.2, epsilon_high=0.28,
                      report_to=[], use_cpu=True, bf16=False, save_strategy="no", gradient_checkpointing=False,
                      **trl_cfg)
    trainer = GRPOTrainer(model=str(tiny_model_dir), reward_funcs=lambda completions, **kw: [0.0] * len(completions),
                          args=args, train_dataset=Dataset.from_list([{"prompt": "1 + 1 ="}] * B))
    model = trainer.model.float()
    model.train()
    trainer.current_gradient_accumulation_steps = 1  # what its training_step sets: no accumulation here
    # Old log-probs a little off the current policy (ratios ~ e^+-0.3: some clipped), a reference further off.
    current = _per_token_logps(model, prompt_ids, prompt_mask, completion_ids, completion_mask)
    old = (current + 0.3 * torch.randn(current.shape, generator=gen)) * completion_mask
    ref = (current + 0.5 * torch.randn(current.shape, generator=gen)) * completion_mask

    inputs = {"prompt_ids": prompt_ids, "prompt_mask": prompt_mask, "completion_ids": completion_ids,
              "completion_mask": completion_mask, "advantages": advantages, "old_per_token_logps": old,
              "ref_per_token_logps": ref, "num_items_in_batch": completion_mask.sum()}
    model.zero_grad(set_to_none=True)
    trl_loss = trainer._compute_loss(model, inputs)
    trl_loss.backward()
    trl_grads = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}

    clip_high = 0.28
    objective = build_objective(algorithm, clip_ratio_low=0.2, clip_ratio_high=clip_high, **ours_cfg)
    # grad_clip far above the norm (clipping would rescale the gradient); one optimizer step, lr 0 (grads kept).
    # Rows with zero advantages skipped where the objective allows it (dr_grpo here; the KL and entropy terms of the
    # other two act on every row): TRL runs them, so this also checks that skipping changes nothing.
    learner = Learner(str(tiny_model_dir), objective, LearnerSettings(lr=0.0, grad_clip=1e9, micro_batch_size=5,
                                                                      rollout_temperature=TEMPERATURE,
                                                                      skip_zero_advantage=True))
    batch = TrainBatch(prompt_ids=prompts, response_ids=COMPLETIONS, group_ids=[b // G for b in range(B)],
                       rewards=[0.0] * B, truncated=[False] * B)
    mask = completion_mask.float()
    batch.advantages = advantages[:, None] * mask
    batch.old_logprobs, batch.ref_logprobs = old, ref
    metrics = learner.update(batch, 0)

    ours = {k: p.grad for k, p in learner.model.named_parameters()}
    assert set(trl_grads) <= set(ours) and len(trl_grads) >= len(ours) - 1  # tied lm_head: one name on one side
    norm = math.sqrt(sum(float(g.pow(2).sum()) for g in trl_grads.values()))
    assert norm > 1e-3
    for name, g in trl_grads.items():
        assert torch.allclose(ours[name], g, atol=1e-6 + 1e-4 * norm / math.sqrt(g.numel()), rtol=1e-4), name
    assert metrics["loss"] == pytest.approx(float(trl_loss), rel=1e-5, abs=1e-7)
    assert metrics.get("skipped_row_fraction", 0.0) == (G / B if objective.inert_at_zero_advantage else 0.0)
