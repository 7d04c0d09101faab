"""`python -m bench peer-trl`: time to held-out accuracy, rlvr's GRPO beside TRL's GRPOTrainer on the same start.

Both systems train the embedded tiny model from the same warm-start checkpoint on the same RandomCalculation prompt
stream (step s gets `source.batch(s, P)` on both sides, in order), with rlvr's verifier as the reward, the same group
size, prompts per step, learning rate, temperature, max tokens and loss aggregation, no KL, one optimizer step per
batch (`map_settings` is the whole mapping, one row per setting). Every K steps the current weights of each system
are scored greedily on the same held-out problems by the same code (`score_weights`: rlvr.heldout.score_heldout
over an HF generate of the weights), with the clock stopped. Each (system, seed) runs in its own process, the
systems interleaved per seed (rlvr 0, TRL 0, rlvr 1, ...) so that load on a shared machine falls on both alike.

Writes one JSON per run and meta.json into docs/peer_trl/, then the report docs/peer_trl.md with two plots;
`--from-results` renders the report again from those files. Without TRL installed (`pip install -e '.[peer]'`)
the command prints a note and exits 0.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "peer_trl"
REPORT = ROOT / "docs" / "peer_trl.md"
SYSTEMS = ("rlvr", "trl")
ALGORITHMS = ("grpo", "dr_grpo", "dapo")
LOSS_TYPE = {"seq-mean-token-mean": "grpo", "seq-mean-token-sum-norm": "dr_grpo", "token-mean": "dapo"}
SKIP_NOTE = ("peer-trl skipped: TRL is not importable ({err}); `pip install -e '.[peer]'` installs it. "
             "Nothing was run.")


def trl_missing() -> str | None:
    """Why TRL cannot be used here, or None when it can."""
    try:
        import trl  # noqa: F401
    except ImportError as e:
        return str(e) or "import trl failed"
    return None


# ------------------------------------------------------------------------------------------- the settings map
def rlvr_overrides(algorithm: str, seed: int, steps: int, eval_size: int, model_dir: str | None,
                   extra: list[str] = ()) -> list[str]:
    """The Hydra overrides of the rlvr side: the defaults of `make train` (debug_cpu) with the run's algorithm,
    seed and length; no logger, no checkpoints (the bench evaluates on its own cadence)."""
    out = [f"algorithm={algorithm}", f"trainer.seed={seed}", f"trainer.steps={steps}", f"trainer.eval_size={eval_size}",
           "logger=none"]
    if model_dir:
        out.append(f"model.path={model_dir}")
    return out + list(extra)


def map_settings(cfg) -> tuple[dict, list[tuple[str, str, str, str]]]:
    """rlvr's composed config -> (GRPOConfig keyword arguments, table rows). Pure: reads `cfg` only.

    Each row is (setting, rlvr key = value, TRL key = value, note); the note says where one side cannot express
    the other's setting and what was picked instead."""
    a, r, o, lr_ = cfg.algorithm, cfg.rollout, cfg.optim, cfg.learner
    name = a.name
    if name not in ALGORITHMS:
        raise ValueError(f"peer-trl compares grpo, dr_grpo and dapo (TRL loss types); not algorithm={name}")
    loss_type = LOSS_TYPE[a.loss_agg_mode]
    std = bool(a.get("norm_adv_by_std", False))
    kw = dict(num_generations=int(r.n), per_device_train_batch_size=int(r.n * r.prompts_per_step),
              gradient_accumulation_steps=1, num_iterations=1, learning_rate=float(o.lr),
              lr_scheduler_type="constant" if o.schedule == "constant" else o.schedule,
              warmup_steps=int(o.warmup_steps), weight_decay=float(o.weight_decay),
              adam_beta1=float(o.betas[0]), adam_beta2=float(o.betas[1]), adam_epsilon=1e-8, optim="adamw_torch",
              max_grad_norm=float(o.grad_clip), temperature=float(r.temperature), top_p=float(r.top_p), top_k=0,
              max_completion_length=int(r.max_tokens), loss_type=loss_type,
              scale_rewards="group" if std else "none", epsilon=float(a.clip_ratio_low),
              epsilon_high=float(a.clip_ratio_high), beta=float(a.kl_loss_coef), entropy_coef=float(a.entropy_coeff),
              use_bias_correction_kl=False,
              mask_truncated_completions=False, shuffle_dataset=False, use_vllm=False, seed=int(cfg.trainer.seed),
              bf16=False, use_cpu=True, gradient_checkpointing=False)
    mini = lr_.mini_batch_prompts
    rows = [
        ("start weights", "model.path = the warm-start checkpoint", "model = the same directory", "same files"),
        ("prompt stream", f"data = {cfg.data.source} {cfg.data.family} level {list(cfg.data.levels)}, step s draws "
                          f"source.batch(s, {r.prompts_per_step})",
         "train_dataset = those rows in step order, shuffle_dataset = False", "same prompts, same order"),
        ("reward", f"reward = {cfg.reward.name} (rlvr_verify in the verifier service's process pool)",
         "reward_funcs = bench.gpu_step.verified_reward (rlvr_verify.verify_batch in the trainer's process)",
         "same function and options; TRL calls it in-process"),
        ("group size G", f"rollout.n = {r.n}", f"num_generations = {kw['num_generations']}", ""),
        ("prompts per step", f"rollout.prompts_per_step = {r.prompts_per_step}",
         f"per_device_train_batch_size = {kw['per_device_train_batch_size']} (= P x G), "
         "gradient_accumulation_steps = 1", "TRL counts completions, not prompts"),
        ("optimizer steps per batch", f"learner.mini_batch_prompts = {mini}, learner.epochs = {lr_.epochs}",
         "num_iterations = 1, steps_per_generation = 1 (the default: = gradient_accumulation_steps)",
         "one step per batch on both; the PPO ratio is 1 and clipping inactive"),
        ("micro-batches", f"learner.micro_batch_size = {lr_.micro_batch_size}", "the whole batch in one pass",
         "no accumulation on either side at this size"),
        ("zero-advantage rows", f"learner.skip_zero_advantage = {bool(lr_.get('skip_zero_advantage'))}",
         "always in the forward and backward",
         "skipped rows add exactly 0 to the gradient (no KL or entropy term): the same step, less compute"
         if lr_.get("skip_zero_advantage") else "both run every row"),
        ("learning rate", f"optim.lr = {o.lr:g}", f"learning_rate = {kw['learning_rate']:g}", ""),
        ("schedule", f"optim.schedule = {o.schedule}, optim.warmup_steps = {o.warmup_steps}",
         f"lr_scheduler_type = {kw['lr_scheduler_type']}, warmup_steps = {kw['warmup_steps']}",
         "TRL's default is linear decay; set to constant"),
        ("optimizer", f"torch AdamW, betas = {list(o.betas)}, eps 1e-8 (torch default), weight_decay = "
                      f"{o.weight_decay:g}", f"optim = adamw_torch, adam_beta1/2 = {o.betas[0]}/{o.betas[1]}, "
                                              f"adam_epsilon = 1e-8, weight_decay = {o.weight_decay:g}", ""),
        ("gradient clipping", f"optim.grad_clip = {o.grad_clip:g}", f"max_grad_norm = {o.grad_clip:g}", ""),
        ("sampling temperature", f"rollout.temperature = {r.temperature:g} (the loss divides logits by it too)",
         f"temperature = {r.temperature:g} (likewise)", ""),
        ("top-p / top-k", f"rollout.top_p = {r.top_p:g}, no top-k", f"top_p = {r.top_p:g}, top_k = 0 (off)", ""),
        ("max new tokens", f"rollout.max_tokens = {r.max_tokens}", f"max_completion_length = {r.max_tokens}", ""),
        ("loss aggregation", f"algorithm = {name}: loss_agg_mode = {a.loss_agg_mode}", f"loss_type = {loss_type}",
         {"grpo": "mean over each response's tokens, then over responses",
          "dr_grpo": "token sum / (responses x max_completion_length) on both",
          "dapo": "mean over all tokens of the batch"}[name]),
        ("advantage scale", f"norm_adv_by_std = {std}" + (f", std_eps = {a.std_eps:g} (unbiased std)" if std else ""),
         f"scale_rewards = {kw['scale_rewards']}" + (" (unbiased std + 1e-4)" if std else ""),
         "closest: TRL adds 1e-4 to the std, rlvr 1e-6; all-equal groups get 0 on both" if std else "no std on both"),
        ("PPO clip", f"clip_ratio_low / high = {a.clip_ratio_low:g} / {a.clip_ratio_high:g}",
         f"epsilon = {a.clip_ratio_low:g}, epsilon_high = {a.clip_ratio_high:g}", "inactive at ratio 1"),
        ("dual clip", f"clip_ratio_c = {a.clip_ratio_c}", "no equivalent (TRL's `delta` caps the ratio itself)",
         "cannot be expressed; inactive at ratio 1 anyway"),
        ("KL to a reference", f"kl_loss_coef = {a.kl_loss_coef:g}" + (f", kl_loss_type = {a.kl_loss_type}"
                                                                       if a.kl_loss_coef else ""),
         f"beta = {kw['beta']:g}, use_bias_correction_kl = False",
         "TRL's default multiplies k3 by the importance ratio; rlvr's k3 (verl's) does not"
         if a.kl_loss_coef else "no reference model"),
        ("entropy bonus", f"entropy_coeff = {a.entropy_coeff:g}", f"entropy_coef = {kw['entropy_coef']:g}", ""),
        ("sampler/learner correction", f"trainer.is_cap = {cfg.trainer.is_cap} (truncated IS, vLLM vs learner "
                                       "log-probs)",
         "use_vllm = False: TRL samples with the training weights, so there is nothing to correct",
         "rlvr's weights are ~1 here (fp32 on both sides)"),
        ("rollout engine", f"rollout = {r.engine} ({r.num_workers} worker, Ray actor)",
         "transformers generate in the trainer's process (use_vllm = False)",
         "each system's CPU path: TRL's vLLM modes need a GPU or a separate server"),
        ("weight sync", f"trainer.weight_sync = {cfg.trainer.weight_sync}, sync check = {cfg.trainer.sync_check}",
         "none (one process)", "counted in rlvr's wall time"),
        ("precision", f"model.dtype = {cfg.model.dtype}, rollout.dtype = {r.dtype}", "bf16 = False, use_cpu = True",
         "fp32 on both"),
        ("seed", f"trainer.seed = {cfg.trainer.seed} (sampling seeds)", f"seed = {cfg.trainer.seed}",
         "each side's own generator: equal seeds do not give equal samples"),
        ("truncated responses", "kept, trained on", "mask_truncated_completions = False", ""),
    ]
    if a.get("filter_groups"):
        rows.append(("dynamic sampling", f"filter_groups = true (+ up to {cfg.trainer.max_dynamic_sampling_rounds} "
                                         "refill rounds)", "no equivalent",
                     "cannot be expressed: TRL keeps all-equal groups (advantage 0) in the batch"))
    if a.get("pm1_reward"):
        rows.append(("reward scale", "pm1_reward = true (r -> 2r - 1)", "the same 0/1 reward",
                     "equivalent after the group's std normalisation (an affine map of the rewards)"))
    if a.get("overlong_penalty"):
        rows.append(("overlong penalty", "overlong_penalty = true", "not added",
                     "cannot be expressed in GRPOConfig; closest: none"))
    return kw, rows


# ------------------------------------------------------------------------------------------ shared evaluation
def score_weights(model, tokenizer, items, max_tokens: int) -> tuple[float, str]:
    """Greedy accuracy of `model`'s current weights on `items` by rlvr.heldout.score_heldout (HF generate, rlvr's
    verifier), and the 0/1 string of which were right. The one scoring code both systems go through."""
    import torch

    from rlvr.heldout import mean_accuracy, score_heldout
    from rlvr.rollout.hf_engine import HFEngine
    from rlvr_verify import verify_batch

    was_training = model.training
    model.eval()
    engine = HFEngine.from_model(model, tokenizer, "cpu")
    greedy = lambda prompts, n, temperature, seed: engine.generate(  # noqa: E731
        prompts, n=n, temperature=temperature, max_tokens=max_tokens)
    with torch.no_grad():
        counts = score_heldout(greedy, verify_batch, items, k=1, temperature=0.0, seed=0)
    model.train(was_training)
    return mean_accuracy(counts), "".join(str(c) for c in counts)


class Clock:
    """Training wall time with the evaluations taken out: `mark()` closes a step, `pause()` / `resume()` bracket
    an evaluation."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.paused_s = 0.0
        self._pause_t = None

    def mark(self) -> float:
        now = time.perf_counter()
        dt, self.last = now - self.last, now
        return dt

    def pause(self):
        self._pause_t = time.perf_counter()

    def resume(self):
        now = time.perf_counter()
        self.paused_s += now - self._pause_t
        self.last += now - self._pause_t


def heldout_items(cfg, model_dir: str):
    from rlvr.data.prompts import build_prompt_source

    return build_prompt_source(cfg.data, heldout_size=cfg.trainer.eval_size, model_path=model_dir)


def run_rlvr(cfg, model_dir: str, steps: int, eval_every: int) -> dict:
    import ray
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlvr.run import build_run

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    source = heldout_items(cfg, model_dir)
    evaluator = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(model_dir)
    evals, step_rows = [], []
    with build_run(cfg, tempfile.mkdtemp(prefix="peer-trl-rlvr-"), log=lambda *_: None) as run:
        run.sync()
        setup_s = time.perf_counter() - t0
        own_initial = run.heldout()[0]

        def evaluate(step: int, train_s: float):
            evaluator.load_state_dict(ray.get(run.learner.named_weights.remote()), strict=False)
            acc, correct = score_weights(evaluator, tok, source.heldout, int(cfg.rollout.max_tokens))
            evals.append({"step": step, "train_s": train_s, "accuracy": acc, "correct": correct})

        evaluate(0, 0.0)
        clock, train_s = Clock(), 0.0
        for step in range(steps):
            m = run.step(step)
            dt = clock.mark()
            train_s += dt
            step_rows.append({"step": step + 1, "wall_s": dt, "reward": m.get("reward_mean"),
                              "generate_s": m.get("time/generate_s"), "verify_s": m.get("time/verify_s"),
                              "learn_s": m.get("time/learn_s"), "sync_s": m.get("time/sync_s"),
                              "response_length": m.get("response_length"), "grad_norm": m.get("grad_norm")})
            if (step + 1) % eval_every == 0 or step + 1 == steps:
                clock.pause()
                evaluate(step + 1, train_s)
                clock.resume()
        own_final = run.heldout()[0]
    return {"setup_s": setup_s, "train_s": train_s, "evals": evals, "steps": step_rows,
            "own_heldout": {"initial": own_initial, "final": own_final, "engine": cfg.rollout.engine}}


def run_trl(cfg, model_dir: str, steps: int, eval_every: int) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, TrainerCallback
    from trl import GRPOTrainer

    from bench.gpu_step import data_rows, trl_config, verified_reward

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    source = heldout_items(cfg, model_dir)
    P, G = int(cfg.rollout.prompts_per_step), int(cfg.rollout.n)
    rows = data_rows([it for s in range(steps) for it in source.batch(s, P)])
    kw, _ = map_settings(cfg)
    run = {"prompts": P, "n": G, "tokens": int(cfg.rollout.max_tokens)}
    fixed = {k: kw.pop(k) for k in ("learning_rate", "seed", "bf16", "use_cpu", "gradient_checkpointing",
                                    "per_device_train_batch_size", "num_generations", "max_completion_length")}
    args = trl_config(tempfile.mkdtemp(prefix="peer-trl-trl-"), run, steps, cuda=False, lr=fixed["learning_rate"],
                      seed=fixed["seed"], **kw)
    tok = AutoTokenizer.from_pretrained(model_dir)
    phases = {"generate_score_s": 0.0, "verify_s": 0.0}

    def reward(prompts, completions, answer, **extra):
        t = time.perf_counter()
        out = verified_reward(prompts, completions, answer, **extra)
        phases["verify_s"] += time.perf_counter() - t
        return out

    reward.__name__ = "verified"

    class Timed(GRPOTrainer):
        def _generate_and_score_completions(self, inputs):
            t = time.perf_counter()
            out = super()._generate_and_score_completions(inputs)
            phases["generate_score_s"] += time.perf_counter() - t
            return out

    evals, step_rows = [], []
    state = {"train_s": 0.0, "clock": None, "last": dict(phases)}

    class Cadence(TrainerCallback):
        def on_train_begin(self, args, st, control, model=None, **kw_):
            state["setup_s"] = time.perf_counter() - t0  # construction and train()'s own preparation
            evals.append({"step": 0, "train_s": 0.0, **dict(zip(("accuracy", "correct"),
                                                                 score_weights(model, tok, source.heldout,
                                                                               run["tokens"])))})
            state["clock"] = Clock()

        def on_step_end(self, args, st, control, model=None, **kw_):
            clock = state["clock"]
            dt = clock.mark()
            state["train_s"] += dt
            gen = phases["generate_score_s"] - state["last"]["generate_score_s"]
            ver = phases["verify_s"] - state["last"]["verify_s"]
            state["last"] = dict(phases)
            step_rows.append({"step": st.global_step, "wall_s": dt, "generate_s": gen - ver, "verify_s": ver,
                              "learn_s": dt - gen})
            if st.global_step % eval_every == 0 or st.global_step == steps:
                clock.pause()
                acc, correct = score_weights(model, tok, source.heldout, run["tokens"])
                evals.append({"step": st.global_step, "train_s": state["train_s"], "accuracy": acc,
                              "correct": correct})
                clock.resume()

    trainer = Timed(model=model_dir, reward_funcs=reward, args=args, train_dataset=Dataset.from_list(rows),
                    processing_class=AutoTokenizer.from_pretrained(model_dir), callbacks=[Cadence()])
    trainer.train()
    logs = {int(h["step"]): h for h in trainer.state.log_history if "reward" in h}
    for row in step_rows:
        h = logs.get(row["step"], {})
        row.update(reward=h.get("reward"), response_length=h.get("completions/mean_length"),
                   grad_norm=h.get("grad_norm"))
    return {"setup_s": state["setup_s"], "train_s": state["train_s"], "evals": evals, "steps": step_rows}


def run_one(system: str, seed: int, steps: int, eval_every: int, eval_size: int, algorithm: str, model_dir: str,
            out: Path, rlvr_set: list[str] = ()) -> dict:
    from rlvr.config import compose

    cfg = compose(rlvr_overrides(algorithm, seed, steps, eval_size, model_dir, rlvr_set))
    started = time.perf_counter()
    result = (run_rlvr if system == "rlvr" else run_trl)(cfg, model_dir, steps, eval_every)
    P, G = int(cfg.rollout.prompts_per_step), int(cfg.rollout.n)
    for e in result["evals"]:
        e["samples"] = e["step"] * P * G
    result.update(system=system, seed=seed, algorithm=algorithm, steps_run=steps, eval_every=eval_every,
                  eval_size=eval_size, prompts_per_step=P, n=G, process_s=time.perf_counter() - started,
                  final_accuracy=result["evals"][-1]["accuracy"], initial_accuracy=result["evals"][0]["accuracy"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    return result


# ------------------------------------------------------------------------------------------------- the driver
def resolve_model(model_dir: str | None) -> tuple[str, str]:
    """The warm-start checkpoint both systems start from, and how it was found."""
    if model_dir:
        return model_dir, "given with --model-dir"
    from rlvr.config import compose
    from rlvr.models.tiny import default_cache_dir, ensure_tiny_model
    from rlvr.models.warm_start import ensure_warm_start

    cfg = compose([])
    cache = Path(cfg.model.cache_dir) if cfg.model.cache_dir else default_cache_dir()
    base = ensure_tiny_model(cfg.model.preset, cfg.model.seed, cache)
    path, _ = ensure_warm_start(base, cfg.model.warm_start, cfg.data, cache, device="cpu")
    return str(path), "ensure_warm_start with the default model.warm_start"


def file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, no GPU" if cpu else f"{os.cpu_count()} cores"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
        return out.stdout.strip() + (" (working tree with uncommitted changes)" if dirty.strip() else "")
    except OSError:
        return "unknown"


def run_all(a) -> int:
    from rlvr.config import compose

    model_dir, how = resolve_model(a.model_dir)
    cfg = compose(rlvr_overrides(a.algorithm, a.seeds[0], a.steps, a.eval_size, model_dir, a.rlvr_set))
    _, rows = map_settings(cfg)
    import trl
    import transformers
    import torch

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git_commit(), "machine": machine(), "command": "python -m bench peer-trl " + " ".join(a.argv),
            "model_dir": model_dir, "model_found": how,
            "model_sha256": file_sha256(Path(model_dir) / "model.safetensors"),
            "versions": {"trl": trl.__version__, "transformers": transformers.__version__, "torch": torch.__version__},
            "algorithm": a.algorithm, "steps": a.steps, "eval_every": a.eval_every, "eval_size": a.eval_size,
            "seeds": a.seeds, "order": [], "settings": rows, "load": [], "rlvr_set": a.rlvr_set}
    for seed in a.seeds:
        for system in a.systems:
            meta["order"].append(f"{system} seed {seed}")
            meta["load"].append({"before": f"{system} seed {seed}", "loadavg": os.getloadavg()})
            (out / "meta.json").write_text(json.dumps(meta, indent=1))
            target = out / f"{system}_seed{seed}.json"
            print(f"peer-trl: {system} seed {seed}, {a.steps} steps ...", flush=True)
            cmd = [sys.executable, "-m", "bench", "peer-trl", "--worker", system, "--seeds", str(seed), "--steps",
                   str(a.steps), "--eval-every", str(a.eval_every), "--eval-size", str(a.eval_size), "--algorithm",
                   a.algorithm, "--model-dir", model_dir, "--out", str(target),
                   *[x for kv in a.rlvr_set for x in ("--rlvr-set", kv)]]
            # Ray's memory monitor kills actors when the whole (shared) machine runs low, whoever holds the memory:
            # off for these runs, so that another user's job does not end ours.
            env = {**os.environ, "RAY_memory_monitor_refresh_ms": "0"}
            for attempt in (1, 2):
                proc = subprocess.run(cmd, cwd=ROOT, env=env)
                if proc.returncode == 0:
                    break
                meta.setdefault("retries", []).append(f"{system} seed {seed}: exit {proc.returncode}")
                print(f"peer-trl: {system} seed {seed} failed (exit {proc.returncode})", file=sys.stderr)
            if proc.returncode != 0:
                return proc.returncode
            r = json.loads(target.read_text())
            print(f"peer-trl: {system} seed {seed}: held-out {r['initial_accuracy']:.1%} -> {r['final_accuracy']:.1%}"
                  f", {r['train_s']:.0f} s training, {r['setup_s']:.0f} s setup", flush=True)
    meta["load"].append({"before": "end", "loadavg": os.getloadavg()})
    (out / "meta.json").write_text(json.dumps(meta, indent=1))
    render(out, Path(a.report))
    return 0


# ------------------------------------------------------------------------------------------------- the report
def load_results(results: Path) -> tuple[dict, dict[str, list[dict]]]:
    meta = json.loads((results / "meta.json").read_text())
    runs = {s: [] for s in SYSTEMS}
    for seed in meta["seeds"]:
        for s in SYSTEMS:
            f = results / f"{s}_seed{seed}.json"
            if f.exists():
                runs[s].append(json.loads(f.read_text()))
    return meta, runs


def curve(runs: list[dict]) -> list[dict]:
    """Per evaluation point over seeds: samples, mean training seconds, mean / min / max accuracy."""
    points = []
    for i, e in enumerate(runs[0]["evals"]):
        accs = [r["evals"][i]["accuracy"] for r in runs]
        points.append({"step": e["step"], "samples": e["samples"],
                       "train_s": statistics.mean(r["evals"][i]["train_s"] for r in runs),
                       "mean": statistics.mean(accs), "min": min(accs), "max": max(accs)})
    return points


def time_to_reach(points: list[dict], target: float) -> dict | None:
    """The first evaluation point of a mean curve at or above `target`."""
    return next((p for p in points if p["mean"] >= target - 1e-12), None)


def verdict(curves: dict[str, list[dict]], runs: dict[str, list[dict]]) -> dict:
    ours, theirs = curves["rlvr"], curves["trl"]
    trl_final, trl_time = theirs[-1]["mean"], theirs[-1]["train_s"]
    reach = time_to_reach(ours, trl_final)
    trl_setup = statistics.mean(r["setup_s"] for r in runs["trl"])
    our_setup = statistics.mean(r["setup_s"] for r in runs["rlvr"])
    out = {"trl_final": trl_final, "trl_train_s": trl_time, "rlvr_final": ours[-1]["mean"],
           "rlvr_train_s": ours[-1]["train_s"], "reach": reach,
           "time_ok": bool(reach and reach["train_s"] <= 0.5 * trl_time),
           "time_ratio": (reach["train_s"] / trl_time) if reach else None,
           "time_ratio_with_setup": ((reach["train_s"] + our_setup) / (trl_time + trl_setup)) if reach else None,
           "trl_band": (theirs[-1]["min"], theirs[-1]["max"]), "rlvr_band": (ours[-1]["min"], ours[-1]["max"])}
    out["sample_ok"] = out["rlvr_final"] >= theirs[-1]["min"] - 1e-12
    return out


def plot(curves: dict[str, list[dict]], path_samples: Path, path_time: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"rlvr": "tab:blue", "trl": "tab:orange"}
    labels = {"rlvr": "rlvr GRPO", "trl": "TRL GRPOTrainer"}
    for path, key, xlabel in ((path_samples, "samples", "training samples (responses generated)"),
                              (path_time, "train_s", "training wall time, s (evaluations excluded)")):
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for s, pts in curves.items():
            x = [p[key] for p in pts]
            ax.plot(x, [100 * p["mean"] for p in pts], marker="o", ms=3, color=colors[s], label=labels[s])
            ax.fill_between(x, [100 * p["min"] for p in pts], [100 * p["max"] for p in pts], color=colors[s],
                            alpha=0.2, lw=0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("held-out greedy accuracy, %")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def median_of(rows: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def p10_of(rows: list[dict], key: str = "wall_s") -> float:
    """The 10th percentile: a step's cost with the least interference from other load on the machine."""
    vals = sorted(r[key] for r in rows)
    return vals[int(0.1 * (len(vals) - 1))]


def render(results: Path, report: Path) -> str:
    meta, runs = load_results(results)
    if not runs["rlvr"] or not runs["trl"]:
        raise SystemExit(f"peer-trl: {results} lacks the runs of one system; nothing to compare")
    curves = {s: curve(runs[s]) for s in SYSTEMS}
    rel = os.path.relpath(results, report.parent)
    plot(curves, results / "accuracy_vs_samples.png", results / "accuracy_vs_time.png",
         f"{meta['algorithm']}, {min(len(runs[s]) for s in SYSTEMS)} seeds, mean and min-max")
    v = verdict(curves, runs)
    n_seeds = min(len(runs[s]) for s in SYSTEMS)  # the runs present (a run still going has no file yet)
    L = [f"# rlvr beside TRL's GRPOTrainer: time to held-out accuracy", "",
         f"Measured {meta['date']} on {meta['machine']}; commit {meta['commit']}; TRL {meta['versions']['trl']}, "
         f"transformers {meta['versions']['transformers']}, torch {meta['versions']['torch']}.", "",
         "```", meta["command"], "```", "",
         f"Both systems train the embedded tiny model from the same warm-start checkpoint (`{meta['model_found']}`: "
         f"`{meta['model_dir']}`, model.safetensors sha256 `{meta['model_sha256'][:16]}...`) for {meta['steps']} "
         f"steps with `algorithm={meta['algorithm']}`, {n_seeds} seeds each. Every {meta['eval_every']} steps the "
         f"current weights are scored greedily on the same {meta['eval_size']} held-out RandomCalculation problems "
         "by the same code (`bench.peer_trl.score_weights`: `rlvr.heldout.score_heldout` over an HF generate of the "
         "weights, rlvr's verifier), with the clock stopped. Wall time is the training loop's (rollout, reward, "
         "update and, for rlvr, the weight sync and its check); start-up (model load, Ray and the vLLM engine for "
         "rlvr, GRPOTrainer construction for TRL) is listed apart. Each run is its own process; the systems ran "
         f"interleaved per seed ({', '.join(meta['order'])}) so that load on the shared machine falls on both "
         "alike. Load average before each run: "
         + ", ".join(f"{x['before']} {x['loadavg'][0]:.1f}" for x in meta["load"]) + ".", "",
         "`python -m bench peer-trl --from-results` renders this page again from the per-run files in "
         f"[{rel}/]({rel}/).", "",
         "## Settings, mapped one by one", "",
         "| setting | rlvr | TRL | note |", "|---|---|---|---|"]
    L += [f"| {a} | `{b}` | `{c}` | {d} |" for a, b, c, d in meta["settings"]]
    L += ["", "## Held-out accuracy", "",
          f"![accuracy vs samples]({rel}/accuracy_vs_samples.png)", "",
          f"![accuracy vs wall time]({rel}/accuracy_vs_time.png)", "",
          "| step | samples | rlvr mean [min, max] | rlvr train s | TRL mean [min, max] | TRL train s |",
          "|---|---|---|---|---|---|"]
    for p, q in zip(curves["rlvr"], curves["trl"]):
        L.append(f"| {p['step']} | {p['samples']} | {pct(p['mean'])} [{pct(p['min'])}, {pct(p['max'])}] | "
                 f"{p['train_s']:.0f} | {pct(q['mean'])} [{pct(q['min'])}, {pct(q['max'])}] | {q['train_s']:.0f} |")
    L += ["", "## Final accuracies and wall times, per run", "",
          "| system | seed | held-out start -> end | training s | s/step (median) | s/step (10th percentile) | "
          "generate / verify / learn / sync s (median) | start-up s |", "|---|---|---|---|---|---|---|---|"]
    for s in SYSTEMS:
        for r in runs[s]:
            ph = [median_of(r["steps"], k) for k in ("generate_s", "verify_s", "learn_s", "sync_s")]
            split = " / ".join("-" if x is None else f"{x:.3f}" for x in ph)
            L.append(f"| {s} | {r['seed']} | {pct(r['initial_accuracy'])} -> {pct(r['final_accuracy'])} | "
                     f"{r['train_s']:.1f} | {median_of(r['steps'], 'wall_s'):.3f} | {p10_of(r['steps']):.3f} | {split} | "
                     f"{r['setup_s']:.1f} |")
    L += ["", "| system | final held-out, mean [min, max] | training s, mean [min, max] | start-up s, mean |",
          "|---|---|---|---|"]
    for s in SYSTEMS:
        f = [r["final_accuracy"] for r in runs[s]]
        t = [r["train_s"] for r in runs[s]]
        L.append(f"| {s} | {pct(statistics.mean(f))} [{pct(min(f))}, {pct(max(f))}] | {statistics.mean(t):.0f} "
                 f"[{min(t):.0f}, {max(t):.0f}] | {statistics.mean(r['setup_s'] for r in runs[s]):.0f} |")
    own = [r.get("own_heldout") for r in runs["rlvr"] if r.get("own_heldout")]
    if own:
        L += ["", "Cross-check of the shared scorer: rlvr's own held-out evaluation (its rollout engine, "
              f"{own[0]['engine']}, greedy) gave " + "; ".join(
                  f"seed {r['seed']}: {pct(r['own_heldout']['initial'])} -> {pct(r['own_heldout']['final'])}"
                  for r in runs["rlvr"]) + " (the table's figures come from the shared HF scorer)."]
    L += ["", "## The target", ""]
    if v["reach"]:
        L.append(f"- **Time.** TRL's final mean held-out accuracy is {pct(v['trl_final'])} after "
                 f"{v['trl_train_s']:.0f} s of training. rlvr's mean curve first reaches it at step "
                 f"{v['reach']['step']}, after {v['reach']['train_s']:.0f} s: {v['time_ratio']:.2f}x TRL's time "
                 f"({v['time_ratio_with_setup']:.2f}x with each side's start-up added). Target <= 0.5x: "
                 f"**{'met' if v['time_ok'] else 'not met'}**.")
        quiet = {k: statistics.mean(p10_of(r["steps"]) for r in runs[k]) for k in SYSTEMS}
        L.append(f"- **Time, load taken out.** With each system's 10th-percentile step time (the steps least slowed "
                 f"by other load: rlvr {quiet['rlvr']:.2f} s, TRL {quiet['trl']:.2f} s, mean over seeds) the same "
                 f"step counts give {v['reach']['step'] * quiet['rlvr']:.0f} s for rlvr against "
                 f"{meta['steps'] * quiet['trl']:.0f} s for TRL: "
                 f"{v['reach']['step'] * quiet['rlvr'] / (meta['steps'] * quiet['trl']):.2f}x.")
    else:
        best = max(curves["rlvr"], key=lambda p: (p["mean"], -p["step"]))
        theirs = time_to_reach(curves["trl"], best["mean"])
        quiet = {k: statistics.mean(p10_of(r["steps"]) for r in runs[k]) for k in SYSTEMS}
        L.append(f"- **Time.** rlvr's mean curve never reaches TRL's final mean ({pct(v['trl_final'])}, after "
                 f"{v['trl_train_s']:.0f} s) within {meta['steps']} steps: its best is {pct(best['mean'])}, "
                 f"{100 * (v['trl_final'] - best['mean']):.1f} points short, at step {best['step']} after "
                 f"{best['train_s']:.0f} s ({best['train_s'] / v['trl_train_s']:.2f}x TRL's time). Target: **not "
                 f"met** as stated. At the level both reach ({pct(best['mean'])}) TRL's mean curve got there first "
                 f"at step {theirs['step']}, after {theirs['train_s']:.0f} s: rlvr took "
                 f"{best['train_s'] / theirs['train_s']:.2f}x TRL's time; with the 10th-percentile step times "
                 f"(rlvr {quiet['rlvr']:.2f} s, TRL {quiet['trl']:.2f} s) "
                 f"{best['step'] * quiet['rlvr'] / (theirs['step'] * quiet['trl']):.2f}x.")
    L.append(f"- **Per sample.** After the same {curves['rlvr'][-1]['samples']} samples rlvr's final mean is "
             f"{pct(v['rlvr_final'])} (seeds {pct(v['rlvr_band'][0])}-{pct(v['rlvr_band'][1])}), TRL's "
             f"{pct(v['trl_final'])} (seeds {pct(v['trl_band'][0])}-{pct(v['trl_band'][1])}). Target (not below "
             f"TRL's seed band): **{'met' if v['sample_ok'] else 'not met'}**.")
    discussion = results / "discussion.md"
    if discussion.exists():
        L += ["", discussion.read_text().rstrip()]
    text = "\n".join(L) + "\n"
    report.write_text(text)
    print(f"peer-trl: wrote {report} and the plots in {results}")
    return text


# ---------------------------------------------------------------------------------------------------- the CLI
def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench peer-trl",
                                description="time to held-out accuracy: rlvr's GRPO beside TRL's GRPOTrainer, same "
                                            "warm start, prompts, reward and settings")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--eval-every", type=int, default=10)
    p.add_argument("--eval-size", type=int, default=200, help="held-out problems (trainer.eval_size)")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="grpo")
    p.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    p.add_argument("--model-dir", default=None, help="the warm-start checkpoint (default: ensure_warm_start's)")
    p.add_argument("--out", default=str(RESULTS), help="where the per-run JSON files and the plots go")
    p.add_argument("--report", default=str(REPORT))
    p.add_argument("--from-results", action="store_true", help="only render the report from --out's files")
    p.add_argument("--rlvr-set", action="append", default=[], metavar="KEY=VALUE",
                   help="an extra Hydra override of the rlvr side (repeatable), e.g. rollout.engine=hf; the settings "
                        "map shows its effect")
    p.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.argv = argv
    if a.from_results:
        render(Path(a.out), Path(a.report))
        return 0
    err = trl_missing()
    if err is not None:
        print(SKIP_NOTE.format(err=err))
        return 0
    if a.worker:
        run_one(a.worker, a.seeds[0], a.steps, a.eval_every, a.eval_size, a.algorithm, a.model_dir, Path(a.out),
                a.rlvr_set)
        return 0
    return run_all(a)
