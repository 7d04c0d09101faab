"""Warm start of the embedded tiny model: SFT on generated solutions until it has non-zero accuracy.

RL needs a policy that is sometimes right. The random-init tiny model never is, so `make train` first fine-tunes it on
RandomCalculation demonstrations until its held-out greedy accuracy reaches a target (rlvr.config.WarmStartConfig says
why the recipe lands there on any CPU) and caches the result under a key of everything that shaped it, so the next run
starts at once.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

from rlvr.infra.atomic import atomic_directory
from rlvr.models.tiny import COMPLETE_MARKER, is_complete

WARM_FORMAT = 1


def warm_start_data(data_cfg) -> dict:
    """The data node the warm start trains on: the run's, but always the whole training stream. data.train_problems
    and data.train_problem_ids limit RL only (one-shot RLVR starts from the usual warm start), and leaving them out
    keeps the cache keys."""
    data = OmegaConf.to_container(data_cfg, resolve=True) if OmegaConf.is_config(data_cfg) else dict(data_cfg)
    data.pop("train_problems", None)
    data.pop("train_problem_ids", None)
    return data


def warm_start_key(base_dir: Path, warm_cfg, data_cfg) -> dict:
    data = warm_start_data(data_cfg)
    warm = OmegaConf.to_container(warm_cfg, resolve=True) if OmegaConf.is_config(warm_cfg) else dict(warm_cfg)
    if not warm.get("sft_steps_first") or warm.get("objective") == "sft":
        # It changes nothing then: the keys (and caches) of SFT and earlier warm starts stay valid.
        warm.pop("sft_steps_first", None)
    base_marker = (base_dir / COMPLETE_MARKER).read_text() if (base_dir / COMPLETE_MARKER).exists() else str(base_dir)
    return {"base": base_marker, "warm": warm, "data": data, "format": WARM_FORMAT}


def ensure_warm_start(base_dir: Path, warm_cfg, data_cfg, cache_root: Path, device: str = "cpu",
                      log=print) -> tuple[Path, dict]:
    """Return (model dir, report) of the warm-started model, training and caching it when missing."""
    key = warm_start_key(base_dir, warm_cfg, data_cfg)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    out = cache_root / "warm_start" / f"{base_dir.name}-{warm_cfg.objective}-{digest}"
    if is_complete(out, key):
        report = json.loads((out / "warm_start_report.json").read_text())
        log(f"warm start: cached at {out} (held-out greedy accuracy {report['accuracy']:.1%})")
        return out, report
    first = f" after {warm_cfg.sft_steps_first} SFT steps" if warm_cfg.get("sft_steps_first") else ""
    log(f"warm start: {warm_cfg.objective.upper()}{first} of {base_dir.name} on demonstrations until held-out greedy "
        f"accuracy >= {warm_cfg.target_accuracy:.0%} (at most {warm_cfg.steps} steps)")
    model, tokenizer, report = train_warm_start(base_dir, warm_cfg, data_cfg, device, log)
    with atomic_directory(out) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "warm_start_report.json").write_text(json.dumps(report, indent=1))
        (tmp / COMPLETE_MARKER).write_text(json.dumps(key, sort_keys=True))
    return out, report


def train_warm_start(base_dir: Path, warm_cfg, data_cfg, device: str, log):
    from tqdm import tqdm

    from rlvr.batch import TrainBatch
    from rlvr.data.prompts import build_prompt_source
    from rlvr.heldout import mean_accuracy, score_heldout
    from rlvr.rollout.hf_engine import HFEngine
    from rlvr_verify import verify_batch
    from rlvr.algorithms import build_objective
    from rlvr.learner.learner import Learner, LearnerSettings

    source = build_prompt_source(OmegaConf.create(warm_start_data(data_cfg)), heldout_size=warm_cfg.eval_size)
    settings = LearnerSettings(lr=warm_cfg.lr, warmup_steps=warm_cfg.warmup_steps, total_steps=warm_cfg.steps,
                               schedule=warm_cfg.get("schedule", "constant"),
                               micro_batch_size=warm_cfg.batch_size, seed=warm_cfg.seed, device=device,
                               num_threads=int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count()))
    learner = Learner(str(base_dir), build_objective(warm_cfg.objective), settings)
    sft_first = int(warm_cfg.get("sft_steps_first", 0) or 0)
    sft = build_objective("sft") if sft_first else None
    tok = learner.tokenizer
    eos = tok.eos_token_id
    history = []
    start = time.time()
    accuracy = 0.0
    bar = tqdm(range(warm_cfg.steps), desc="warm start", dynamic_ncols=True,
               mininterval=0.5 if sys.stderr.isatty() else 15)
    for step in bar:
        items = source.batch(step, warm_cfg.batch_size)
        batch = TrainBatch(
            prompt_ids=[tok(it.prompt)["input_ids"] for it in items],
            response_ids=[tok(it.demonstration(data_cfg.solution_format), add_special_tokens=False)["input_ids"]
                          + [eos] for it in items],
            group_ids=list(range(len(items))))
        metrics = learner.update(batch, step, sft if step < sft_first else None)
        if (step + 1) % warm_cfg.eval_every == 0 or step + 1 == warm_cfg.steps:
            learner.model.eval()
            engine = HFEngine.from_model(learner.model, tok, device)
            greedy = lambda prompts, n, temperature, seed: engine.generate(  # noqa: E731 (greedy: no seed needed)
                prompts, n=n, temperature=temperature, max_tokens=24)
            counts = score_heldout(greedy, verify_batch, source.heldout)
            learner.model.train()
            accuracy = mean_accuracy(counts)
            history.append({"step": step + 1, "accuracy": accuracy, "loss": metrics["loss"],
                            "seconds": round(time.time() - start, 1)})
            bar.set_postfix(loss=f"{metrics['loss']:.3f}", heldout_acc=f"{accuracy:.1%}", refresh=False)
            if accuracy >= warm_cfg.target_accuracy:
                break
    bar.close()
    report = {"accuracy": accuracy, "steps": history[-1]["step"] if history else 0,
              "seconds": round(time.time() - start, 1), "history": history}
    log(f"warm start: held-out greedy accuracy {accuracy:.1%} after {report['steps']} steps ({report['seconds']} s)")
    learner.model.eval()
    return learner.model, tok, report
