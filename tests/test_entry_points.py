"""One CLI convention: every entry point answers --help with exit 0 and its usage, without starting any
work. Hydra apps (train, evaluate, extrapolate) print their groups and keys; argparse utilities their arguments."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ENTRY_POINTS = {
    "rlvr.train": ([sys.executable, "-m", "rlvr.train", "--help"], "usage: python -m rlvr.train"),
    "rlvr.evaluate": ([sys.executable, "-m", "rlvr.evaluate", "--help"], "usage: python -m rlvr.evaluate"),
    "rlvr.evaluate plot": ([sys.executable, "-m", "rlvr.evaluate", "plot", "--help"],
                           "usage: python -m rlvr.evaluate plot"),
    "rlvr.extrapolate": ([sys.executable, "-m", "rlvr.extrapolate", "--help"], "usage: python -m rlvr.extrapolate"),
    "bench": ([sys.executable, "-m", "bench", "--help"], "usage: python -m bench"),
    "bench engine": ([sys.executable, "-m", "bench", "engine", "--help"],
                          "usage: python -m bench engine"),
    "bench gpu-step": ([sys.executable, "-m", "bench", "gpu-step", "--help"],
                            "usage: python -m bench gpu-step"),
    "rlvr_verify": ([sys.executable, "-m", "rlvr_verify", "--help"], "usage: python -m rlvr_verify"),
    "data_gen": ([sys.executable, "-m", "data_gen", "--help"], "usage: python -m data_gen"),
}


@pytest.fixture(scope="module")
def help_outputs():
    """All entry points at once (each is mostly interpreter and import start-up)."""
    procs = {name: subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, (cmd, _) in ENTRY_POINTS.items()}
    return {name: (p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for name, p in procs.items()}


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_entry_point_answers_help(name, help_outputs):
    rc, out, err = help_outputs[name]
    assert rc == 0, err[-2000:]
    assert ENTRY_POINTS[name][1] in out, out[:2000]


def test_train_help_lists_groups_and_keys(help_outputs):
    _, out, _ = help_outputs["rlvr.train"]
    assert "algorithm: " in out and "grpo" in out and "trainer:" in out


def test_extrapolate_linearity_defaults_to_a_shipped_benchmark():
    from rlvr.data.eval_sets import load_benchmark
    from rlvr.tools.extrapolate import compose_extrapolate

    cfg = compose_extrapolate(["mode=linearity", "ckpts=[a,b,c]", "out=o"])
    assert load_benchmark(cfg.data)  # math500 ships; aime24 does not
