"""Shared fixtures: one embedded tiny model per test session, built into a temporary cache."""
import os

from rlvr.infra.env import apply_engine_env

apply_engine_env()
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

import pytest  # noqa: E402


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
