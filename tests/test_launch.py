"""The sweep launcher expands reward x seed cells and validates reward names against conf/reward."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "launch/sweep.py", *args], cwd=ROOT, capture_output=True, text=True)


def test_multirun_dry_run():
    out = run("--dry-run", "--rewards", "verified", "random", "--seeds", "0", "1", "--", "trainer.steps=5")
    assert out.returncode == 0
    assert "--multirun reward=verified,random trainer.seed=0,1 trainer.steps=5" in out.stdout


def test_ray_mode_one_job_per_cell():
    out = run("--dry-run", "--mode", "ray", "--seeds", "0", "1")
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 8 and all(line.startswith("launch/submit.sh reward=") for line in lines)
    assert "name=sweep_format_s1" in out.stdout


def test_unknown_reward_is_refused():
    out = run("--dry-run", "--rewards", "verifed")
    assert out.returncode == 2 and "conf/reward" in out.stderr


def test_scripts_are_valid_bash():
    for f in ["ray_head.sh", "ray_worker.sh", "submit.sh", "slurm.sbatch"]:
        assert subprocess.run(["bash", "-n", str(ROOT / "launch" / f)]).returncode == 0, f
