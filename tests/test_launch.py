"""The sweep convenience spells one Hydra multirun (reward x seed, validated against conf/reward); the cluster
launchers (hydra/launcher=slurm_gpu via submitit, hydra/launcher=ray_jobs) compose and send each cell as one job."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "launch/sweep.py", *args], cwd=ROOT, capture_output=True, text=True)


def test_multirun_dry_run():
    out = run("--dry-run", "--rewards", "verified", "random", "--seeds", "0", "1", "--", "trainer.steps=5")
    assert out.returncode == 0
    assert "--multirun reward=verified,random trainer.seed=0,1 trainer.steps=5" in out.stdout


def test_launcher_option_picks_the_hydra_launcher():
    out = run("--dry-run", "--launcher", "ray", "--seeds", "0", "1")
    assert out.returncode == 0 and out.stdout.count("\n") == 1
    assert "--multirun reward=verified,random,incorrect,format trainer.seed=0,1 hydra/launcher=ray_jobs" in out.stdout
    assert "hydra/launcher=slurm_gpu" in run("--dry-run", "--launcher", "slurm").stdout


def _sweep_config(launcher):
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict

    from rlvr.config import CONF_DIR, register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", [f"hydra/launcher={launcher}", "hydra.sweep.dir=/shared/multirun/study/t0"],
                      return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.overrides.task = ["experiment=debug_cpu", "reward=verified,random", "trainer.seed=0,1"]
    return cfg


def test_slurm_launcher_composes_with_resumable_job_dirs():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    cfg = _sweep_config("slurm_gpu")
    assert cfg.hydra.launcher._target_.endswith("SlurmLauncher") and cfg.hydra.launcher.gpus_per_node == 8
    from omegaconf import OmegaConf

    assert OmegaConf.to_container(cfg.hydra.sweep)["subdir"] == "${hydra.job.num}"  # a requeued job finds its run


class _FakeJobClient:
    """Ray's JobSubmissionClient as the launcher uses it; job 1 fails."""

    def __init__(self):
        self.entrypoints = []

    def submit_job(self, entrypoint, runtime_env, entrypoint_num_cpus, entrypoint_num_gpus):
        self.entrypoints.append(entrypoint)
        return f"raysubmit_{len(self.entrypoints) - 1}"

    def get_job_status(self, job_id):
        return "FAILED" if job_id.endswith("_1") else "SUCCEEDED"

    def get_job_logs(self, job_id):
        return "Traceback ...\nValueError: boom"


def test_ray_jobs_launcher_sends_one_job_per_cell_into_the_sweep_dir(monkeypatch):
    from hydra.core.utils import JobStatus
    from hydra_plugins.rlvr_ray_jobs.ray_jobs_launcher import RayJobsLauncher

    cfg = _sweep_config("ray_jobs")
    conf = {k: v for k, v in cfg.hydra.launcher.items() if k != "_target_"}
    launcher = RayJobsLauncher(**{**conf, "python": "python", "working_dir": "/shared/rlvr", "poll_s": 0})
    launcher.setup(hydra_context=None, task_function=None, config=cfg)
    client = _FakeJobClient()
    monkeypatch.setattr(launcher, "client", lambda: client)
    monkeypatch.setattr("pathlib.Path.mkdir", lambda *a, **k: None)
    cells = [["experiment=debug_cpu", "reward=verified", "trainer.seed=0"],
             ["experiment=debug_cpu", "reward=random", "trainer.seed=0"]]
    returns = launcher.launch(cells, initial_job_idx=0)
    assert client.entrypoints[1] == (
        "cd /shared/rlvr && python -m rlvr.train experiment=debug_cpu reward=random trainer.seed=0 "
        "hydra.run.dir=/shared/multirun/study/t0/1 logger.group=study/t0 "
        "logger.run_name=reward=random,trainer.seed=0")
    assert returns[0].status == JobStatus.COMPLETED and returns[0].working_dir == "/shared/multirun/study/t0/0"
    assert returns[1].status == JobStatus.FAILED
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        returns[1].return_value


def test_unknown_reward_is_refused():
    out = run("--dry-run", "--rewards", "verifed")
    assert out.returncode == 2 and "conf/reward" in out.stderr


def test_scripts_are_valid_bash():
    for f in ["ray_head.sh", "ray_worker.sh", "submit.sh", "slurm.sbatch"]:
        assert subprocess.run(["bash", "-n", str(ROOT / "launch" / f)]).returncode == 0, f
