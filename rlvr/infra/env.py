"""The process environment the engines need, set in one place before vLLM is imported.

vLLM reads these at import: in-process engines (a Ray actor owns its engine and reloads its weights with a direct
call) need VLLM_ENABLE_V1_MULTIPROCESSING=0; a 1 GiB CPU KV cache keeps the debug tier small. Values the user already
exported win (setdefault).
"""
from __future__ import annotations

import os

ENGINE_ENV = {
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "VLLM_CPU_KVCACHE_SPACE": "1",
    "VLLM_LOGGING_LEVEL": "WARNING",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_engine_env() -> dict[str, str]:
    """Set ENGINE_ENV in this process (without overriding the user's values); returns what is now in effect, which
    is also what Ray actors get through their runtime_env."""
    for k, v in ENGINE_ENV.items():
        os.environ.setdefault(k, v)
    return {k: os.environ[k] for k in ENGINE_ENV}
