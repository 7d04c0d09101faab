"""Checkpoints prove they are whole: manifest.json (size + sha256 of every file) is written last; each kind
of damage is found with the file named in one line, `latest_checkpoint` falls back to the newest whole checkpoint
(saying so), checkpoints from before manifests still load, killed writes' temp dirs are removed at start, a resume
path that does not exist or does not verify is a one-line error, and nothing is unpickled beyond plain data."""
import json
import os
import random
import zipfile

import numpy as np
import pytest
import torch

from rlvr.infra.checkpoint import (MANIFEST, CheckpointError, checkpoint_problem, complete_checkpoints,
                                   latest_checkpoint, load_checkpoint, remove_stale_checkpoint_temporaries,
                                   resolve_resume, save_checkpoint, verify_checkpoint, write_manifest)


@pytest.fixture(scope="module")
def model_parts(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def adamw(model_parts):
    return _optimizer(model_parts[0])


def _optimizer(model):
    """An AdamW with state (exp_avg, step), as in a real checkpoint; the step does not change the weights (lr=0)."""
    opt = torch.optim.AdamW(model.parameters(), lr=0.0)
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.01)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return opt


@pytest.fixture
def run(tmp_path, model_parts, adamw):
    """A run dir with checkpoints at steps 1 and 2 (steps differ in the weights: step 2 is step 1 + 1.0)."""
    model, tok = model_parts
    opt = adamw
    save_checkpoint(tmp_path, 1, model=model, tokenizer=tok, optimizer=opt, trainer_state={"data_cursor": 1})
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    save_checkpoint(tmp_path, 2, model=model, tokenizer=tok, optimizer=opt, trainer_state={"data_cursor": 2})
    with torch.no_grad():
        for p in model.parameters():
            p.sub_(1.0)
    ck = tmp_path / "checkpoints"
    return tmp_path, ck / "step_000001", ck / "step_000002"


def _safetensors_data_start(f):
    with open(f, "rb") as fh:
        return 8 + int.from_bytes(fh.read(8), "little")


def flip_bytes(ck):
    """64 KB overwritten inside the tensor data; the safetensors header stays intact, so it loads silently."""
    f = ck / "model.safetensors"
    start = _safetensors_data_start(f)
    n = min(64 * 1024, f.stat().st_size - start)
    with open(f, "r+b") as fh:
        fh.seek(start)
        data = bytearray(fh.read(n))
        fh.seek(start)
        fh.write(bytes(b ^ 0x5A for b in data))
    return "model.safetensors", "content differs"


def truncate_weights(ck):
    f = ck / "model.safetensors"
    os.truncate(f, f.stat().st_size // 2)
    return "model.safetensors", "truncated"


def zero_optimizer(ck):
    f = ck / "optimizer.pt"
    f.write_bytes(bytes(f.stat().st_size))
    return "optimizer.pt", "content differs"


def cut_trainer_state(ck):
    f = ck / "trainer_state.json"
    f.write_text(f.read_text()[:5])
    return "trainer_state.json", "truncated"


def delete_rng(ck):
    (ck / "rng_state.pt").unlink()
    return "rng_state.pt", "missing"


def delete_tokenizer_file(ck):
    (ck / "tokenizer_config.json").unlink()
    return "tokenizer_config.json", "missing"


def garble_manifest(ck):
    (ck / MANIFEST).write_text('{"files": {"model.safet')
    return MANIFEST, "unreadable"


DAMAGE = [flip_bytes, truncate_weights, zero_optimizer, cut_trainer_state, delete_rng, delete_tokenizer_file,
          garble_manifest]


def test_manifest_lists_every_file_with_size_and_hash(run):
    _, ck1, ck2 = run
    for ck in (ck1, ck2):
        assert verify_checkpoint(ck) is None
        manifest = json.loads((ck / MANIFEST).read_text())
        on_disk = {p.relative_to(ck).as_posix() for p in ck.rglob("*") if p.is_file()} - {MANIFEST}
        assert set(manifest["files"]) == on_disk
        assert {"model.safetensors", "optimizer.pt", "rng_state.pt", "trainer_state.json", "config.json",
                "tokenizer_config.json"} <= on_disk
        for rel, entry in manifest["files"].items():
            assert entry["size"] == (ck / rel).stat().st_size
            assert len(entry["sha256"]) == 64
    # Same weights, different trainer state: the hashes tell the checkpoints apart file by file.
    m1, m2 = (json.loads((ck / MANIFEST).read_text())["files"] for ck in (ck1, ck2))
    assert m1["config.json"] == m2["config.json"]
    assert m1["model.safetensors"]["sha256"] != m2["model.safetensors"]["sha256"]


def test_manifest_covers_subdirectories(tmp_path):
    (tmp_path / "sharded" / "policy").mkdir(parents=True)
    (tmp_path / "sharded" / "policy" / "__0_0.distcp").write_bytes(b"x" * 3000)
    (tmp_path / "trainer_state.json").write_text("{}")
    write_manifest(tmp_path)
    assert verify_checkpoint(tmp_path) is None
    with open(tmp_path / "sharded" / "policy" / "__0_0.distcp", "r+b") as f:
        f.seek(1000)
        f.write(b"y")
    reason = verify_checkpoint(tmp_path)
    assert "sharded/policy/__0_0.distcp" in reason and "content differs" in reason


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda d: d.__name__)
def test_damage_is_named_and_resume_falls_back(run, damage, model_parts):
    run_dir, ck1, ck2 = run
    name, what = damage(ck2)
    reason = verify_checkpoint(ck2)
    assert reason is not None and name in reason and what in reason and "\n" not in reason, reason

    lines = []
    assert latest_checkpoint(run_dir, log=lines.append) == ck1
    assert len(lines) == 1 and name in lines[0] and what in lines[0] and "falling back to step 1" in lines[0], lines
    assert resolve_resume(run_dir, "auto", log=lines.append) == ck1

    model, _ = model_parts
    with pytest.raises(CheckpointError) as err:  # loading it directly says the same, one line
        load_checkpoint(ck2, model=model)
    assert name in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CheckpointError) as err:
        resolve_resume(run_dir, str(ck2))
    assert str(err.value).startswith(f"trainer.resume={ck2}:") and name in str(err.value)

    state = load_checkpoint(ck1, model=model, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3))
    assert state["step"] == 1 and state["data_cursor"] == 1


def test_bit_flip_would_load_silently_without_the_manifest(run, model_parts):
    """The reviewer's case: the header is intact, so safetensors reads the flipped bytes as weights."""
    from safetensors.torch import load_file

    _, _, ck2 = run
    before = {k: v.clone() for k, v in load_file(str(ck2 / "model.safetensors")).items()}  # not the mmap
    flip_bytes(ck2)
    after = load_file(str(ck2 / "model.safetensors"))  # no error from the format itself
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert "model.safetensors" in verify_checkpoint(ck2)


def test_every_checkpoint_damaged_is_an_error_not_a_fresh_start(run):
    run_dir, ck1, ck2 = run
    zero_optimizer(ck1)
    truncate_weights(ck2)
    lines = []
    assert latest_checkpoint(run_dir, log=lines.append) is None
    assert len(lines) == 2 and all("no earlier checkpoint verifies" in line for line in lines)
    with pytest.raises(CheckpointError) as err:
        resolve_resume(run_dir, "auto", log=lines.append)
    assert "none of its 2 checkpoint(s) is whole" in str(err.value) and "trainer.resume=never" in str(err.value)
    assert resolve_resume(run_dir, "never") is None  # asked for explicitly: a fresh start


def test_resume_path_that_does_not_exist_is_one_line(tmp_path):
    typo = tmp_path / "chekpoints" / "step_000002"
    with pytest.raises(CheckpointError) as err:
        resolve_resume(tmp_path, str(typo))
    msg = str(err.value)
    assert "\n" not in msg and str(typo) in msg and "no such directory" in msg
    assert resolve_resume(tmp_path, "auto") is None  # a new run: nothing to resume, no error


def test_resume_path_that_is_not_a_checkpoint_is_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError) as err:
        resolve_resume(tmp_path, str(tmp_path / "empty"))
    assert "not a complete checkpoint" in str(err.value) and "\n" not in str(err.value)


def _legacy(ck):
    """Turn a checkpoint into one written before manifests: no manifest.json, RNG state as pickled tuples with numpy
    arrays (the old rng_state.pt format)."""
    (ck / MANIFEST).unlink()
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    torch.save({"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()},
               ck / "rng_state.pt")
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_legacy_checkpoint_without_manifest_still_loads(run, model_parts):
    run_dir, ck1, ck2 = run
    expected = _legacy(ck2)
    lines = []
    assert latest_checkpoint(run_dir, log=lines.append) == ck2
    assert len(lines) == 1 and MANIFEST in lines[0] and "unverified" in lines[0]
    assert resolve_resume(run_dir, str(ck2), log=lines.append) == ck2
    model, _ = model_parts
    random.seed(0)
    np.random.seed(0)
    state = load_checkpoint(ck2, model=model, optimizer=torch.optim.AdamW(model.parameters(), lr=1e-3))
    assert state["step"] == 2
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected  # old RNG format restored


@pytest.mark.parametrize("damage", [truncate_weights, zero_optimizer, cut_trainer_state], ids=lambda d: d.__name__)
def test_legacy_checkpoint_with_structural_damage_falls_back(run, damage):
    run_dir, ck1, ck2 = run
    _legacy(ck2)
    name, _ = damage(ck2)
    problem, verified = checkpoint_problem(ck2)
    assert not verified and name in problem and "\n" not in problem
    lines = []
    assert latest_checkpoint(run_dir, log=lines.append) == ck1
    assert name in lines[0] and "falling back to step 1" in lines[0]


def test_rng_state_is_plain_data_and_round_trips(run, model_parts):
    _, ck1, _ = run
    torch.load(ck1 / "rng_state.pt", weights_only=True)
    torch.load(ck1 / "optimizer.pt", weights_only=True)
    model, _ = model_parts
    load_checkpoint(ck1, model=model)
    a = (random.random(), float(np.random.rand()), float(torch.rand(1)), random.gauss(0, 1))
    load_checkpoint(ck1, model=model)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1)), random.gauss(0, 1)) == a


CODE_RAN = []


def _payload():
    CODE_RAN.append(True)
    return {}


class _Evil:
    def __reduce__(self):
        return (_payload, ())


def test_optimizer_file_with_code_is_refused_even_with_a_matching_manifest(run, model_parts):
    """Someone rewrote optimizer.pt to run code and the manifest to match: weights_only=True refuses to unpickle it."""
    _, ck1, _ = run
    torch.save({"optimizer": None, "scheduler": None, "extra": _Evil()}, ck1 / "optimizer.pt")
    write_manifest(ck1)
    assert verify_checkpoint(ck1) is None
    model, _ = model_parts
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(ck1, model=model)
    assert "optimizer.pt" in str(err.value) and "\n" not in str(err.value)
    assert CODE_RAN == []


def test_stale_temporary_dirs_are_removed_at_start(run):
    run_dir, ck1, ck2 = run
    ckdir = run_dir / "checkpoints"
    stale = [ckdir / ".step_000003.tmp-k1ll3d", ckdir / ".step_000004.tmp-sharded"]
    for d in stale:
        (d / "sharded").mkdir(parents=True)
        (d / "model.safetensors").write_bytes(b"half")
    others = [ckdir / ".notes.tmp-x", run_dir / ".step_000005.tmp-elsewhere", ckdir / "step_000009"]
    for d in others:
        d.mkdir()
    lines = []
    assert resolve_resume(run_dir, "auto", log=lines.append) == ck2
    assert not any(d.exists() for d in stale)
    assert all(d.exists() for d in others) and ck1.is_dir() and ck2.is_dir()
    assert verify_checkpoint(ck1) is None and verify_checkpoint(ck2) is None
    assert any("removed 2 unfinished checkpoint write(s)" in line for line in lines)
    assert remove_stale_checkpoint_temporaries(run_dir) == []
    assert latest_checkpoint(run_dir) == ck2  # finding checkpoints never deletes anything


def test_killed_write_leaves_no_checkpoint_and_its_temp_dir_goes(run, model_parts, monkeypatch):
    """A write that dies before the rename (here: in the manifest) leaves step 3 absent; were the process killed,
    its temp dir would stay until the next start removes it."""
    import rlvr.infra.checkpoint as checkpoint

    run_dir, _, ck2 = run
    model, tok = model_parts
    monkeypatch.setattr(checkpoint, "write_manifest", lambda d: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(run_dir, 3, model=model, tokenizer=tok, trainer_state={})
    assert latest_checkpoint(run_dir) == ck2
    assert [p.name for p in complete_checkpoints(run_dir)] == ["step_000001", "step_000002"]


def test_pruning_keeps_the_fallback_when_newer_damaged_checkpoints_exist(run, model_parts):
    """After falling back to step 1 past a damaged step 2, writing step 2 again must not prune step 1 away."""
    run_dir, ck1, ck2 = run
    zero_optimizer(ck2)
    (run_dir / "checkpoints" / "step_000003").mkdir()
    (run_dir / "checkpoints" / "step_000003" / "trainer_state.json").write_text("{}")  # damaged, newer
    model, tok = model_parts
    save_checkpoint(run_dir, 2, model=model, tokenizer=tok, trainer_state={}, keep_last=2)
    assert ck1.is_dir() and verify_checkpoint(ck2) is None


class _SetupReached(Exception):
    pass


def _train_until_start(run_dir, resume, cache, monkeypatch):
    """rlvr.loop.train up to Run.start(), which would start the warm start, Ray and engines: resume is resolved
    before."""
    from rlvr.config import compose
    from rlvr.loop import train
    from rlvr.run import Run

    cfg = compose(["model.warm_start.enabled=false", "logger.wandb_mode=disabled", f"model.cache_dir={cache}",
                   f"trainer.resume={resume}"])
    monkeypatch.setattr(Run, "start", lambda self: (_ for _ in ()).throw(_SetupReached()))
    train(Run(cfg, run_dir, log=lambda line: None), close=False)


def test_train_refuses_a_resume_typo_before_anything_starts(tmp_path, tiny_model_dir, monkeypatch):
    typo = tmp_path / "run" / "checkponts" / "step_000002"
    with pytest.raises(CheckpointError, match="no such directory"):
        _train_until_start(tmp_path / "run", str(typo), tiny_model_dir.parent.parent, monkeypatch)
    assert not (tmp_path / "run" / "config.yaml").exists()  # nothing of the run was touched


def test_train_auto_resume_falls_back_and_cleans_up_before_setup(run, tiny_model_dir, monkeypatch):
    run_dir, ck1, ck2 = run
    flip_bytes(ck2)
    (run_dir / "checkpoints" / ".step_000003.tmp-dead").mkdir()
    with pytest.raises(_SetupReached):
        _train_until_start(run_dir, "auto", tiny_model_dir.parent.parent, monkeypatch)
    log = (run_dir / "train.log").read_text()
    assert "model.safetensors" in log and "falling back to step 1" in log
    assert not (run_dir / "checkpoints" / ".step_000003.tmp-dead").exists()
