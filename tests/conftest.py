"""Shared fixtures: one embedded tiny model per test session, built into a temporary cache."""
import os

from rlvr.infra.env import apply_engine_env

apply_engine_env()
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

import pytest  # noqa: E402


def pytest_collection_modifyitems(items):
    """`ray` marks every test on the shared Ray cluster (`-m "not ray"` runs without starting one). What a test costs
    is marked in its file: `slow` (make test skips it) and `e2e` (the whole loop through Ray actors and engines)."""
    for item in items:
        if "ray_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.ray)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from rlvr.models import ensure_tiny_model

    return ensure_tiny_model("tiny", seed=0, cache_dir=tmp_path_factory.mktemp("rlvr_cache"))


def vllm_available() -> bool:
    try:
        import vllm  # noqa: F401
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster per test module (in-process vLLM engines, no wandb)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "WANDB_MODE": "disabled"}})
    yield
    ray.shutdown()


def offline_run_record(run_dir, run_id, timeout_s=60.0):
    """The bytes of a wandb offline run file; wandb's service finishes writing it shortly after finish() returns."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        files = list((run_dir / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb"))
        data = files[0].read_bytes() if files else b""
        if len(data) > 100 or time.monotonic() > deadline:
            return data
        time.sleep(0.5)
