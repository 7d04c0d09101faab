"""`python -m bench memory`: the learner's measured peak memory at a real model shape beside the a-priori projection
(bench.learner_memory.project_update_peak), with each memory feature switched off in turn, on one or two FSDP2
ranks. Runs on CPU (where the peak is the process's resident set) as well as on CUDA.

Every configuration runs in a fresh subprocess (one per rank), so peaks never mix: the child measures the resident
set before the model loads (Python, torch, transformers: the runtime), then the peak of each phase (loading, each
update) by resetting the kernel's high-water mark (/proc/self/clear_refs) before it and reading VmHWM after it. The
parent watches every child's resident set and kills a configuration that passes --cap-gib (the row says so), so a
configuration that does not fit cannot take the machine down.

The batch is a finished GRPO batch (random tokens, old log-probs, advantages) of the shape's prompt length and the
given response lengths; a randomly initialised model of the shape (speed and memory do not depend on the weights).
Figures, not assertions.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

# The learner's memory features, all on: chunked log-probs/entropy (1,024 tokens a chunk), token-budget micro-batches,
# padding-free (packed) rows, activation checkpointing; fp32 compute (what the CPU runs fast). Each configuration
# below switches one off (or bf16 compute on).
ALL_ON = dict(logprob_chunk_tokens=1024, padding_free=True, gradient_checkpointing=True, dtype="float32")
UNCHUNKED = 10 ** 9  # one chunk of every response token: the [tokens, V] fp32 logits at once
CONFIGS = {
    "all on": {},
    "no chunked log-probs": {"logprob_chunk_tokens": UNCHUNKED},
    "no token budget": {"max_tokens_per_micro_batch": None},
    "no padding-free": {"padding_free": False},
    "no token budget, no padding-free": {"max_tokens_per_micro_batch": None, "padding_free": False},
    "no activation checkpointing": {"gradient_checkpointing": False},
    "bf16 compute (fp32 masters)": {"dtype": "bfloat16"},
}


def _status_gib(field: str, pid: str = "self") -> float:
    with open(f"/proc/{pid}/status") as f:
        m = re.search(rf"{field}:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 2 ** 20 if m else float("nan")


def _reset_peak() -> None:
    """Reset this process's VmHWM to its current resident set (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def settings_for(config: str, budget: int, world_size: int = 1, rank: int = 0, init: str | None = None,
                 threads: int | None = None) -> dict:
    s = dict(ALL_ON, lr=1e-6, micro_batch_size=8, max_tokens_per_micro_batch=budget, world_size=world_size,
             rank=rank, dist_init_method=init, num_threads=threads)
    s.update(CONFIGS[config])
    return s


def micro_batch_tokens(lengths: list[int], responses: list[int], settings: dict, world_size: int = 1,
                       rank: int = 0) -> list[tuple[int, int]]:
    """(tokens the forward processes, response tokens) of each micro-batch of this rank, as the learner plans them."""
    from rlvr.learner.micro_batches import padded_cost, plan_micro_batches, rank_rows

    rows = rank_rows(list(range(len(lengths))), rank, world_size)
    plan = plan_micro_batches(rows, lengths, settings["micro_batch_size"], settings["max_tokens_per_micro_batch"],
                              packed=settings["padding_free"])
    return [(padded_cost([mb], lengths, settings["padding_free"]), sum(responses[r] for r in mb)) for mb in plan]


def projection(shape: dict, prompt: int, responses: list[int], settings: dict, runtime_gib: float,
               world_size: int = 1, rank: int = 0, device: str = "cpu") -> dict:
    from bench.learner_memory import project_update_peak

    lengths = [prompt + r for r in responses]
    chunk = None if settings["logprob_chunk_tokens"] >= UNCHUNKED else settings["logprob_chunk_tokens"]
    return project_update_peak(shape, micro_batch_tokens(lengths, responses, settings, world_size, rank),
                               compute_bytes=2 if settings["dtype"] == "bfloat16" else 4,
                               checkpointing=settings["gradient_checkpointing"], chunk_tokens=chunk,
                               world_size=world_size, runtime_gib=runtime_gib, host=device == "cpu",
                               fused_adamw=device == "cuda")


# ------------------------------------------------------------------------------------------------ the child process
def _malloc_gib() -> dict:
    """glibc's own accounts (mallinfo2): bytes handed out from the heap arenas, bytes free inside them (slack the
    resident set keeps), bytes in separately mmap'd blocks (every allocation above the mmap threshold)."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(k, ctypes.c_size_t) for k in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = MallInfo2
        m = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    return {"heap_used": m.uordblks / 2 ** 30, "heap_free": m.fordblks / 2 ** 30, "mmapped": m.hblkhd / 2 ** 30}


class PhaseProbe:
    """Each phase's peak resident set inside one update: the high-water mark is read and reset at the end of every
    forward, backward, gradient clipping and optimizer step (hooks on the learner's own calls), with the resident
    set, its anonymous / file-backed split and glibc's accounts at that moment."""

    def __init__(self, learner):
        import torch

        self.rows: list[dict] = []
        learner.scorer.register_forward_hook(lambda *a: self.mark("forward"))
        backward, clip, step = torch.autograd.backward, torch.nn.utils.clip_grad_norm_, learner.optimizer.step

        def backward_(*a, **k):
            out = backward(*a, **k)
            self.mark("backward")
            return out

        def clip_(*a, **k):
            out = clip(*a, **k)
            self.mark("clip grad norm")
            return out

        def step_(*a, **k):
            out = step(*a, **k)
            self.mark("optimizer step")
            return out
        torch.autograd.backward, torch.nn.utils.clip_grad_norm_, learner.optimizer.step = backward_, clip_, step_
        # Inside the backward: a mark each time a decoder layer's (or the embedding's) gradient lands (one rank;
        # FSDP2 assigns its sharded gradients after the reduce-scatter, so no mark there).
        for name, p in learner.scorer.named_parameters():
            if type(p) is torch.nn.Parameter:
                part = name.split(".layers.")[1].split(".")[0] if ".layers." in name else name.split(".")[-2]
                p.register_post_accumulate_grad_hook(lambda t, part=part: self.mark(f"grads of {part}"))

    def mark(self, phase: str) -> None:
        row = {"phase": phase, "peak_gib": _status_gib("VmHWM"), "rss_gib": _status_gib("VmRSS"),
               "anon_gib": _status_gib("RssAnon"), "file_gib": _status_gib("RssFile"), **_malloc_gib()}
        if self.rows and self.rows[-1]["phase"] == phase:  # one row for a layer's several gradients
            row["peak_gib"] = max(row["peak_gib"], self.rows[-1]["peak_gib"])
            self.rows[-1] = row
        else:
            self.rows.append(row)
        _reset_peak()

    def take(self) -> list[dict]:
        rows, self.rows = self.rows, []
        return rows


def _trim_after_zero_grad(optimizer) -> None:
    """After each zero_grad, hand glibc's free heap pages back to the kernel (malloc_trim): the freed gradients then
    stop counting in the resident set (an experiment on the learner's behalf, not something the learner does)."""
    import ctypes

    libc, zero_grad = ctypes.CDLL("libc.so.6"), optimizer.zero_grad

    def zero_grad_(*a, **k):
        zero_grad(*a, **k)
        libc.malloc_trim(0)
    optimizer.zero_grad = zero_grad_


def run_child(model_dir: str, shape_name: str, responses: list[int], settings: dict, steps: int,
              phases: bool = False, malloc_trim: bool = False) -> dict:
    """One configuration (one rank) in this process: runtime, load and per-update peaks (GiB), seconds per update;
    with `phases`, each update's peak per phase (PhaseProbe); with `malloc_trim`, glibc's free pages are given back
    after each zero_grad."""
    runtime = _status_gib("VmRSS")
    import torch

    from bench.learner import SHAPES, random_batch
    from rlvr.algorithms import build_objective
    from rlvr.learner.learner import Learner, LearnerSettings

    shape = SHAPES[shape_name]
    runtime = max(runtime, _status_gib("VmRSS"))  # torch, transformers and the project imported
    cuda = settings.get("device") == "cuda"
    _reset_peak()
    learner = Learner(model_dir, build_objective("grpo", max_response_length=max(responses)),
                      LearnerSettings(**settings))
    out = {"runtime_gib": runtime, "load_gib": _status_gib("VmHWM"), "steps": []}
    if phases:
        out["after_load"] = {"rss_gib": _status_gib("VmRSS"), "anon_gib": _status_gib("RssAnon"),
                             "file_gib": _status_gib("RssFile"), **_malloc_gib()}
    probe = PhaseProbe(learner) if phases else None
    if malloc_trim:
        _trim_after_zero_grad(learner.optimizer)
    batch = random_batch(shape, lengths=responses)
    for step in range(steps):
        _reset_peak()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        metrics = learner.update(batch, step)
        seconds = time.perf_counter() - t0
        row = {"seconds": seconds, "peak_gib": _status_gib("VmHWM"), "loss": metrics["loss"]}
        if probe is not None:
            row["phases"] = probe.take()
            row["peak_gib"] = max([row["peak_gib"], *(p["peak_gib"] for p in row["phases"])])
        if cuda:
            row["cuda_peak_gib"] = torch.cuda.max_memory_allocated() / 2 ** 30
        out["steps"].append(row)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return out


# ----------------------------------------------------------------------------------------------- the parent process
def _watch(procs: list[subprocess.Popen], cap_gib: float, peaks: list[float], killed: list[bool]
           ) -> threading.Thread:
    """Sample each child's resident set every 50 ms; kill all of them once their sum passes the cap."""
    def loop():
        while any(p.poll() is None for p in procs):
            for i, p in enumerate(procs):
                try:
                    peaks[i] = max(peaks[i], _status_gib("VmRSS", str(p.pid)))
                except (OSError, ValueError):
                    continue
            if sum(peaks) > cap_gib:
                killed[0] = True
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                return
            time.sleep(0.05)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def run_config(model_dir: str, shape_name: str, responses: list[int], config: str, budget: int, steps: int,
               world_size: int, cap_gib: float, device: str = "cpu", phases: bool = False,
               malloc_trim: bool = False) -> list[dict]:
    """One configuration in fresh subprocesses (one per rank): each rank's measurement, or its error."""
    init = None
    if world_size > 1:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            init = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    threads = max(1, (os.cpu_count() or 1) // world_size)
    procs = []
    for rank in range(world_size):
        settings = settings_for(config, budget, world_size, rank, init, threads)
        settings["device"] = device
        args = [sys.executable, "-m", "bench", "memory", "--child", json.dumps(
            {"model_dir": model_dir, "shape": shape_name, "responses": responses, "settings": settings,
             "steps": steps, "phases": phases, "malloc_trim": malloc_trim})]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    peaks = [0.0] * world_size
    killed = [False]
    watcher = _watch(procs, cap_gib, peaks, killed)
    results: list[dict] = []
    for p in procs:
        stdout, stderr = p.communicate()
        line = next((x for x in reversed(stdout.splitlines()) if x.startswith("{")), None)
        if line is not None:  # measured (a crash in the interpreter's teardown after it does not matter)
            results.append(json.loads(line))
        elif killed[0]:
            results.append({"error": f"killed: the ranks passed {cap_gib:g} GiB"})
        else:
            tail = (stderr.strip().splitlines() or [f"exit status {p.returncode}"])[-1]
            results.append({"error": f"exit status {p.returncode}: {tail}"})
    watcher.join()
    for r, sampled in zip(results, peaks):
        r["sampled_peak_gib"] = sampled
    return results


def measure(shape_name: str, prompt: int, responses: list[int], configs: list[str], budget: int, steps: int,
            world_sizes: list[int], cap_gib: float, model_dir: str | None = None, device: str = "cpu",
            json_path: str | None = None, layers: int | None = None, phases: bool = False,
            malloc_trim: bool = False) -> list[dict]:
    """Every (configuration, world size) row: measured peaks, projection, tokens/s (written to json_path after each
    configuration, so a long run that is stopped keeps what it measured). layers: the shape cut to that many decoder
    layers (same width and vocabulary; a given model_dir must have them). phases: each update's peak per phase.
    malloc_trim: glibc's free pages given back after each zero_grad (run_child)."""
    from bench.learner import SHAPES
    from bench.random_model import random_model_dir

    shape = dict(SHAPES[shape_name], prompt=prompt)
    if layers is not None:
        shape["num_hidden_layers"] = layers
    if model_dir is None:
        model_dir = random_model_dir(shape, tempfile.mkdtemp(prefix="rlvr-bench-memory-"))
    tokens = sum(prompt + r for r in responses)
    rows = []
    for world_size in world_sizes:
        for config in configs:
            t0 = time.perf_counter()
            ranks = run_config(model_dir, shape_name, responses, config, budget, steps, world_size, cap_gib, device,
                               phases, malloc_trim)
            for rank, r in enumerate(ranks):
                settings = settings_for(config, budget, world_size, rank)
                runtime = r.get("runtime_gib", 0.0) if device == "cpu" else 0.0
                proj = projection(shape, prompt, responses, settings, runtime, world_size, rank, device)
                row = {"config": config, "world_size": world_size, "rank": rank, "projection": proj,
                       "micro_batches": micro_batch_tokens([prompt + x for x in responses], responses, settings,
                                                           world_size, rank), **r}
                if "steps" in r:
                    key = "peak_gib" if device == "cpu" else "cuda_peak_gib"
                    row["peak_gib"] = max(s[key] for s in r["steps"])
                    row["tokens_per_s"] = tokens / r["steps"][-1]["seconds"]
                rows.append(row)
            if json_path:
                with open(json_path, "w") as f:
                    json.dump(rows, f, indent=1)
            print(f"[bench memory] {config}, {world_size} rank(s): {time.perf_counter() - t0:.0f} s", file=sys.stderr,
                  flush=True)
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'configuration':<34}{'ranks':>6}{'rank':>5}{'runtime':>9}{'load':>7}{'peak':>7}{'projected':>10}"
          f"{'error':>8}{'tokens/s':>10}  projected peak moment; micro-batches (tokens, response tokens)")
    for r in rows:
        p = r["projection"]
        head = f"{r['config']:<34}{r['world_size']:>6}{r['rank']:>5}"
        if "error" in r:
            print(f"{head}{r.get('runtime_gib', float('nan')):>9.2f}{'':>14}{p['total_gib']:>10.2f}  "
                  f"{r['error']} (sampled {r['sampled_peak_gib']:.2f} GiB)")
            continue
        err = (p["total_gib"] - r["peak_gib"]) / r["peak_gib"]
        print(f"{head}{r['runtime_gib']:>9.2f}{r['load_gib']:>7.2f}{r['peak_gib']:>7.2f}{p['total_gib']:>10.2f}"
              f"{err:>+8.1%}{r['tokens_per_s']:>10.1f}  {p['which']}; {r['micro_batches']}")
        for i, step in enumerate(r["steps"]):
            for ph in step.get("phases", []):
                print(f"    update {i + 1} {ph['phase']:<16} peak {ph['peak_gib']:6.2f}  then rss {ph['rss_gib']:6.2f} "
                      f"(file {ph['file_gib']:.2f}); malloc heap used {ph.get('heap_used', 0):.2f} free "
                      f"{ph.get('heap_free', 0):.2f}, mmapped {ph.get('mmapped', 0):.2f}")


def _args(argv: list[str]):
    from bench.learner import SHAPES

    p = argparse.ArgumentParser(prog="python -m bench memory")
    p.add_argument("--shape", choices=sorted(SHAPES), default="0.5b")
    p.add_argument("--prompt", type=int, default=200, help="prompt tokens per sequence (the 1.5B experiment's)")
    p.add_argument("--responses", default="500,3000",
                   help="response lengths, one sequence each (default: the ends of the 1.5B experiment's range)")
    p.add_argument("--budget", type=int, default=3300, help="trainer.max_tokens_per_micro_batch when it is on")
    p.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--ranks", type=int, nargs="*", default=[1], help="learner world sizes (FSDP2, gloo on CPU)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cpu: the peak is the resident set; cuda: torch.cuda.max_memory_allocated")
    p.add_argument("--steps", type=int, default=2, help="updates per configuration (the 2nd has AdamW's state)")
    p.add_argument("--cap-gib", type=float, default=17.0, help="kill a configuration whose ranks pass this RSS")
    p.add_argument("--model-dir", default=None, help="a saved random model of the shape (default: build one)")
    p.add_argument("--json", default=None, help="also write the rows here")
    p.add_argument("--layers", type=int, default=None,
                   help="cut the shape to this many decoder layers (same width and vocabulary: quicker runs)")
    p.add_argument("--phases", action="store_true",
                   help="also each update's peak per phase (forward, backward, clipping, optimizer step)")
    p.add_argument("--malloc-trim", action="store_true",
                   help="give glibc's free heap pages back after each zero_grad (does the learner need it?)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    a = _args(argv)
    if a.child:
        spec = json.loads(a.child)
        print(json.dumps(run_child(spec["model_dir"], spec["shape"], spec["responses"], spec["settings"],
                                   spec["steps"], spec.get("phases", False), spec.get("malloc_trim", False))))
        return 0
    responses = [int(x) for x in a.responses.split(",")]
    rows = measure(a.shape, a.prompt, responses, a.configs, a.budget, a.steps, a.ranks, a.cap_gib, a.model_dir,
                   a.device, a.json, a.layers, a.phases, a.malloc_trim)
    print_table(rows)
    return 0
