"""GPU path (skipped without CUDA): the learner in bf16 and the HF engine on CUDA. Not run in CI (no GPU there)."""
import math

import pytest
import torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_learner_bf16_update_on_cuda(tiny_model_dir):
    from rlvr.algorithms import build_objective
    from rlvr.batch import TrainBatch
    from rlvr.learner.learner import Learner, LearnerSettings
    from rlvr.step import finish_batch

    learner = Learner(str(tiny_model_dir), build_objective("grpo", max_response_length=8),
                      LearnerSettings(device="cuda", dtype="bfloat16", lr=1e-3))
    batch = TrainBatch(prompt_ids=[[1, 20, 21]] * 4, response_ids=[[30, 31, 2], [30, 2], [34, 2], [35]],
                       group_ids=[0] * 4, truncated=[False] * 4, rewards=[1, 0, 0, 1.0],
                       correct=[True, False, False, True], positive=[True, False, False, True])
    finish_batch(batch, learner.objective, learner.score_rollouts(batch))
    metrics = learner.update(batch, 0)
    assert math.isfinite(metrics["loss"]) and metrics["grad_norm"] > 0
    assert learner.dtype == torch.bfloat16  # bf16 compute
    assert next(learner.model.parameters()).dtype == torch.float32  # fp32 master weights and AdamW state


def test_hf_engine_on_cuda_matches_cpu_greedy(tiny_model_dir):
    from rlvr.rollout import build_engine

    prompts = ["12 + 34=", "7 - 3="]
    cpu = build_engine("hf", str(tiny_model_dir)).generate(prompts, temperature=0, max_tokens=10)
    gpu = build_engine("hf", str(tiny_model_dir), device="cuda").generate(prompts, temperature=0, max_tokens=10)
    assert [g[0].token_ids for g in cpu] == [g[0].token_ids for g in gpu]
