"""Service layer: random_calculation scoring, cache/counters, CLI, and the Ray actor."""
import json
import subprocess
import sys

import pytest

from rlvr_verify import verify
from rlvr_verify.local_service import LocalVerifierService


def naive_continuous(a: float, b: float, eps=1e-6) -> float:
    d = abs(a - b)
    return 1 - 0.5 * min(d / (abs(b) + eps), 1) - 0.5 * min(d, 1)


def test_random_calculation_score_matches_paper_formula():
    v = verify("\\boxed{2.5}", "\\frac{5}{2}", mode="random_calculation")
    assert v.correct and v.score == pytest.approx(1.0)
    v = verify("\\boxed{3}", "\\frac{5}{2}", mode="random_calculation")
    assert not v.correct and v.score == pytest.approx(naive_continuous(3, 2.5))  # 1 - 0.1 - 0.25 = 0.65
    assert v.score == pytest.approx(0.65)
    assert verify("no number", "1", mode="random_calculation").reason == "no_answer"
    assert verify("\\boxed{1e999999}", "1", mode="random_calculation").reason == "too_large"


def test_local_service_cache_and_counters():
    with LocalVerifierService(num_workers=0) as svc:
        first = svc.verify_batch(["\\boxed{0.5}", "\\boxed{x}", "#### 3"], ["\\frac12", "\\frac12", "3"])
        again = svc.verify_batch(["so \\boxed{0.5}", "\\boxed{((}"], ["\\frac12", "1"])
        assert [v.correct for v in first] == [True, False, True]
        assert again[0].correct and again[1].reason == "parse_error"
        m = svc.metrics()
        assert m["verifier/items"] == 5 and m["verifier/cache_hits"] == 1 and m["verifier/parse_failures"] == 1


def test_local_service_with_pool_counts_timeouts():
    with LocalVerifierService(num_workers=1, timeout_s=0.5) as svc:
        out = svc.verify_batch(["\\boxed{1}"], ["1"], _test_sleep=5)
        assert out[0].reason == "timeout" and svc.metrics()["verifier/timeouts"] == 1
        assert svc.verify_batch(["\\boxed{1}"], ["1"])[0].correct  # not cached as timeout


def test_cli_check_and_score(tmp_path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "rlvr_verify", *a], capture_output=True, text=True, timeout=60)
    r = run("check", "--gold", "\\frac{1}{2}", "--response", "... \\boxed{0.5}")
    assert json.loads(r.stdout)["correct"] is True
    src = tmp_path / "in.jsonl"
    src.write_text('{"response": "\\\\boxed{2}", "gold": "2"}\nnot json\n{"response": "#### 4", "gold": "5"}\n')
    out = tmp_path / "out.jsonl"
    r = run("score", str(src), "--out", str(out))
    assert r.returncode == 0 and "in.jsonl:2" in r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(x["line"], x["correct"]) for x in rows] == [(1, True), (3, False)]


def test_ray_actor_service():
    ray = pytest.importorskip("ray")
    from rlvr_verify.service import VerifierService
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    try:
        svc = VerifierService.options(num_cpus=0).remote(num_workers=1, timeout_s=2.0)
        out = ray.get(svc.verify_batch.remote(["\\boxed{0.5}", "\\boxed{3}"], ["\\frac12", "2"]))
        assert [v.correct for v in out] == [True, False]
        assert ray.get(svc.metrics.remote())["verifier/items"] == 2
        ray.get(svc.close.remote())
    finally:
        ray.shutdown()


def test_config_backend_reaches_the_pool_and_is_refused_in_process():
    from omegaconf import OmegaConf

    from rlvr.reward.verifier_client import build_verifier

    cfg = OmegaConf.create({"mode": "default", "num_workers": 0, "timeout_s": 5.0, "use_ray_actor": False,
                            "backend": "cascade"})
    with pytest.raises(ValueError, match="num_workers >= 1"):
        build_verifier(cfg)
    cfg.num_workers = 1
    verifier = build_verifier(cfg)
    try:
        assert verifier.options["backend"] == "cascade"
        assert [v.correct for v in verifier.verify_batch(["\\boxed{0.5}", "\\boxed{3}"], ["\\frac{1}{2}", "4"])] == [
            True, False]
    finally:
        verifier.close()
