"""`python -m bench gpu-step` (the comparison with TRL's GRPOTrainer): the rlvr side runs end to end on
CPU and prints its split; the peer is skipped with a note, not an error, when TRL is not importable."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_trl_peer_is_skipped_with_a_note_when_trl_is_absent(monkeypatch):
    from bench.gpu_step import RUNS, trl_steps

    monkeypatch.setitem(sys.modules, "trl", None)  # import trl -> ImportError
    note = trl_steps("unused", RUNS["cpu"], steps=1, warmup=0, cuda=False)
    assert isinstance(note, str) and note.startswith("skipped: TRL is not importable")


@pytest.mark.slow
def test_gpu_step_bench_runs_the_rlvr_step_on_cpu():
    out = subprocess.run([sys.executable, "-m", "bench", "gpu-step", "--steps", "1", "--warmup", "0",
                          "--no-peer"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("rlvr "))
    step, generate, verify, learn, sync = map(float, re.findall(r"\d+\.\d+", line))
    assert step > 0 and generate > 0 and learn > 0 and sync > 0
    assert "trl   skipped: --no-peer" in out.stdout
