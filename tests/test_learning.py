"""GRPO learns on the warm-started tiny model, on any CPU.

Machines differ in their float kernels (AVX-512 vs AVX2, thread counts), so the warm start and every RL step follow
another trajectory on another machine; a fixed margin over a fixed start ("+10 points") fails somewhere. So the claim
is stated against controls in the same run, problem by problem (rlvr.heldout.paired_sign_test), on the
held-out problems' sampled accuracy (8 samples each at the rollout temperature: what GRPO optimises; greedy accuracy
can stand still while it rises, as from a 68% warm start of model seed 1):
- against the start (the same weights at lr 0 would answer as the start does): the problems whose count of right
  samples rose outnumber those where it fell, exact sign test p < 1e-3;
- against a random reward from the same start, seed and prompts: the true reward ends ahead the same way.
`python -m bench learning` runs the same recipe over model seeds, thread counts and forced CPU kernels.
"""
import pytest

from rlvr.config import compose
from rlvr.heldout import paired_sign_test

# The default experiment's recipe (vLLM rollouts, 16 prompts x 8, lr 1e-4), 40 steps instead of 100.
RECIPE = ["trainer.steps=40", "trainer.eval_every=40", "trainer.eval_samples=8", "trainer.checkpoint_every=1000",
          "logger.wandb_mode=disabled", "reward.verifier.use_ray_actor=false", "reward.verifier.num_workers=0"]
P_MAX = 1e-3
_runs: dict = {}


def _run(tmp_path_factory, cache, seed=0, async_steps=0, reward="verified"):
    from rlvr.loop import train
    from rlvr.run import Run

    key = (seed, async_steps, reward)
    if key not in _runs:
        cfg = compose([f"model.cache_dir={cache}", f"trainer.seed={seed}", f"rollout.async_steps={async_steps}",
                       f"reward={reward}", *RECIPE])
        summary = train(Run(cfg, tmp_path_factory.mktemp(f"learn_{seed}_{async_steps}_{reward}")))
        print(f"{key}: held-out greedy {summary['initial_heldout_accuracy']:.3f} -> "
              f"{summary['final_heldout_accuracy']:.3f}")
        _runs[key] = summary
    return _runs[key]


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("seed,async_steps", [(0, 0), (1, 0), (2, 0), (0, 1)])
def test_grpo_gains_more_held_out_problems_than_it_loses(seed, async_steps, tmp_path_factory, ray_cluster,
                                                         tiny_model_dir):
    """Seeds 0-2, and the one-step-off-policy async mode (rollout.async_steps=1)."""
    s = _run(tmp_path_factory, tiny_model_dir.parent.parent, seed, async_steps)
    test = paired_sign_test(s["initial_heldout_sampled"], s["final_heldout_sampled"])
    print(f"seed {seed} async {async_steps}: {test}")
    assert test["p_value"] < P_MAX, test


@pytest.mark.slow
@pytest.mark.e2e
def test_the_verified_reward_beats_a_random_reward_from_the_same_start(tmp_path_factory, ray_cluster,
                                                                      tiny_model_dir):
    cache = tiny_model_dir.parent.parent
    verified, random = _run(tmp_path_factory, cache), _run(tmp_path_factory, cache, reward="random")
    assert verified["initial_heldout_sampled"] == random["initial_heldout_sampled"]  # the same start
    test = paired_sign_test(random["final_heldout_sampled"], verified["final_heldout_sampled"])
    print(f"verified vs random reward: {test}")
    assert test["p_value"] < P_MAX, test


@pytest.mark.parametrize("before,after,expected", [
    ("0000", "1111", {"gained": 4, "lost": 0, "net": 4, "p_value": 1 / 16}),
    ("1100", "0011", {"gained": 2, "lost": 2, "net": 0, "p_value": 11 / 16}),   # P(X >= 2), X ~ Bin(4, 1/2)
    ("1010", "1010", {"gained": 0, "lost": 0, "net": 0, "p_value": 1.0}),
    ("0" * 20 + "1" * 5, "1" * 20 + "0" * 5, {"gained": 20, "lost": 5, "net": 15, "p_value": 68406 / 2 ** 25}),
    ([0, 2, 4, 1], [1, 2, 3, 4], {"gained": 2, "lost": 1, "net": 1, "p_value": 4 / 8}),  # counts of 4 samples
])
def test_the_paired_sign_test_by_hand(before, after, expected):
    got = paired_sign_test(before, after)
    assert got["gained"] == expected["gained"] and got["lost"] == expected["lost"] and got["net"] == expected["net"]
    assert got["p_value"] == pytest.approx(expected["p_value"], rel=1e-12)


def test_the_learning_bench_names_a_failed_cell_by_its_cause(monkeypatch, tmp_path):
    """`python -m bench learning` prints one row per cell; a cell whose run failed shows the error line, not
    the hints printed after it."""
    import subprocess as sp

    from bench import learning as learning_bench

    stderr = ("Traceback (most recent call last):\n  ...\ntorch._inductor.exc.CppCompileError: C++ compile error\n\n"
              "Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.\n")
    monkeypatch.setattr(sp, "run", lambda *a, **k: sp.CompletedProcess(a, 1, "", stderr))
    row = learning_bench.run_cell(tmp_path, "default", 2, 0, 40, [])
    assert row["error"] == "torch._inductor.exc.CppCompileError: C++ compile error"
    assert "FAILED: torch._inductor.exc.CppCompileError" in learning_bench.format_row(row)


def test_the_paired_sign_test_equals_sympys_exact_binomial_tail():
    """Differential check against an independent implementation: sympy.stats' Binomial(n, 1/2) upper tail, on
    seeded random score pairs (0/1 and counts of 8)."""
    import random

    from sympy import Rational
    from sympy.stats import Binomial, P

    rng = random.Random(0)
    for _ in range(25):
        top = rng.choice([1, 8])
        size = rng.randint(1, 60)
        before = [rng.randint(0, top) for _ in range(size)]
        after = [min(top, max(0, b + rng.choice([-2, -1, 0, 0, 1, 2, 3]))) for b in before]
        got = paired_sign_test(before, after)
        n = got["gained"] + got["lost"]
        expected = float(P(Binomial("X", n, Rational(1, 2)) >= got["gained"])) if n else 1.0
        assert got["p_value"] == pytest.approx(expected, rel=1e-12, abs=1e-300), (before, after)
