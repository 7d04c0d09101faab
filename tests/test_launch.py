"""The cluster launchers of a Hydra multirun (hydra/launcher=slurm_gpu via submitit, hydra/launcher=ray_jobs) compose
and send each cell as one job; the launch scripts are valid bash."""
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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


def test_ray_jobs_launcher_resubmits_while_the_heads_job_agent_is_not_up(monkeypatch):
    """A new head refuses a submission (creating no job) until its job agent registers: the launcher submits again,
    up to agent_wait_s; any other refusal is raised at once."""
    import pytest
    from hydra_plugins.rlvr_ray_jobs import ray_jobs_launcher
    from hydra_plugins.rlvr_ray_jobs.ray_jobs_launcher import RayJobsLauncher

    class Refusing(_FakeJobClient):
        def __init__(self, refusals, message):
            super().__init__()
            self.refusals, self.message = refusals, message

        def submit_job(self, **kwargs):
            if self.refusals:
                self.refusals -= 1
                raise RuntimeError(f"Request failed with status code 500: {self.message}.")
            return super().submit_job(**kwargs)

    cfg = _sweep_config("ray_jobs")
    conf = {k: v for k, v in cfg.hydra.launcher.items() if k != "_target_"}
    launcher = RayJobsLauncher(**{**conf, "poll_s": 0})
    launcher.setup(hydra_context=None, task_function=None, config=cfg)
    monkeypatch.setattr(ray_jobs_launcher.time, "sleep", lambda s: None)
    busy = Refusing(3, "No available agent to submit job, please try again later.")
    assert launcher.submit(busy, ["experiment=debug_cpu"], 0) == "raysubmit_0" and busy.refusals == 0
    with pytest.raises(RuntimeError, match="bad runtime_env"):
        launcher.submit(Refusing(1, "bad runtime_env"), ["experiment=debug_cpu"], 0)
    launcher.conf.agent_wait_s = 0
    with pytest.raises(RuntimeError, match="No available agent"):
        launcher.submit(Refusing(1, "No available agent to submit job"), ["experiment=debug_cpu"], 0)


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
    args = shlex.split(client.entrypoints[1])
    assert args[:8] == ["cd", "/shared/rlvr", "&&", "python", "-m", "rlvr.train", "experiment=debug_cpu",
                        "reward=random"]
    assert args[8:11] == ["trainer.seed=0", "hydra.run.dir=/shared/multirun/study/t0/1", "logger.group=study/t0"]
    # The job's overrides as Hydra will read them: the run name is one string, not a sweep.
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(args[6:])
    assert not any(o.is_sweep_override() for o in parsed)
    assert parsed[-1].key_or_group == "logger.run_name" and parsed[-1].value() == "reward=random,trainer.seed=0"
    assert returns[0].status == JobStatus.COMPLETED and returns[0].working_dir == "/shared/multirun/study/t0/0"
    assert returns[1].status == JobStatus.FAILED
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        returns[1].return_value


def test_scripts_are_valid_bash():
    for f in ["ray_head.sh", "ray_worker.sh", "submit.sh", "slurm.sbatch"]:
        assert subprocess.run(["bash", "-n", str(ROOT / "launch" / f)]).returncode == 0, f


# ---------------------------------------------------------------------------------------- ray head + ray job submit
def _free_ports(n: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture
def ray_head(tmp_path):
    """launch/ray_head.sh on loopback with its own ports and temp dir (so no other Ray on this machine sees it, and
    `ray stop`, which would end every Ray here, is never needed): yields the job server's address."""
    import os
    import signal
    import tempfile
    import time

    gcs, dash, client, agent, agent_grpc, metrics, env_agent = _free_ports(7)
    temp = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # short: Ray's unix sockets live under it
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "RAY_PORT": str(gcs),
           "DASHBOARD_PORT": str(dash), "NUM_CPUS": "2", "NUM_GPUS": "0"}
    head = subprocess.Popen(
        ["bash", "launch/ray_head.sh", "--block", f"--temp-dir={temp}", "--node-ip-address=127.0.0.1",
         f"--ray-client-server-port={client}", f"--dashboard-agent-listen-port={agent}",
         f"--dashboard-agent-grpc-port={agent_grpc}", f"--metrics-export-port={metrics}",
         f"--runtime-env-agent-port={env_agent}"],
        cwd=ROOT, env=env, stdout=open(tmp_path / "head.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
    address = f"http://127.0.0.1:{dash}"
    try:
        deadline = time.time() + 180
        while not _job_server_up(address, env):
            assert head.poll() is None, (tmp_path / "head.log").read_text()[-3000:]
            assert time.time() < deadline, "the Ray head's job server did not come up in 180 s"
            time.sleep(2)
        yield address, env
    finally:
        head.send_signal(signal.SIGTERM)  # `ray start --block` ends the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def _job_server_up(address: str, env: dict) -> bool:
    probe = ("import sys; from ray.job_submission import JobSubmissionClient as C\n"
             "try: C(sys.argv[1])\nexcept Exception: sys.exit(1)")
    auth = {"RAY_AUTH_MODE": "token"} if (Path.home() / ".ray" / "auth_token").is_file() else {}
    return subprocess.run([sys.executable, "-c", probe, address], env={**env, **auth},
                          capture_output=True).returncode == 0


@pytest.mark.slow
def test_ray_job_submit_runs_two_steps_on_a_local_head(ray_head, tmp_path, tiny_model_dir):
    """The README's cluster path on one machine: launch/ray_head.sh, then launch/submit.sh of a 2-step run; the run
    directory lands in RUNS_DIR (not in Ray's copy of the working dir)."""
    import json
    import uuid

    address, env = ray_head
    job_id = f"rlvr-test-{uuid.uuid4().hex[:8]}"
    overrides = ["cluster=local", "cluster.address=auto", "cluster.num_cpus=null", "cluster.num_gpus=null",
                 "model.warm_start.enabled=false", f"model.cache_dir={tiny_model_dir.parent.parent}",
                 "rollout.engine=hf", "rollout.prompts_per_step=2", "rollout.n=2", "rollout.max_tokens=4",
                 "trainer.eval_size=2", "trainer.eval_every=100", "trainer.checkpoint_every=100", "trainer.steps=2",
                 "logger.wandb_mode=disabled", "reward.verifier.num_workers=0", "reward.verifier.use_ray_actor=false"]
    out = subprocess.run(["bash", "launch/submit.sh", *overrides], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env={**env, "RAY_ADDRESS": address, "SUBMISSION_ID": job_id, "WAIT": "1",
                                           "RUNS_DIR": str(tmp_path / "runs")})
    assert out.returncode == 0 and f"Job '{job_id}' succeeded" in out.stdout + out.stderr, \
        (out.stdout + out.stderr)[-4000:]
    (metrics,) = (tmp_path / "runs" / "debug_cpu").glob("*/metrics.jsonl")
    steps = [json.loads(line).get("step") for line in metrics.read_text().splitlines()]
    assert {1, 2} <= set(steps)


def test_submit_without_a_job_server_says_how_to_start_one():
    import os

    port = _free_ports(1)[0]
    out = subprocess.run(["bash", "launch/submit.sh", "trainer.steps=1"], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                              "RAY_ADDRESS": f"http://127.0.0.1:{port}"}, timeout=120)
    assert out.returncode == 2 and "launch/ray_head.sh" in out.stderr


def test_submit_tries_again_while_the_heads_job_agent_is_not_up(tmp_path):
    """A head that has just started answers the job client but refuses a submission ("No available agent") until its
    job agent registers; submit.sh submits again rather than failing (here a `ray` that refuses twice, then runs)."""
    import http.server
    import json
    import os
    import threading

    class Version(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # the job client's connection check
            body = json.dumps({"ray_version": "2.60.0", "version": "4", "ray_commit": "x"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Version)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bin_dir, tries = tmp_path / "bin", tmp_path / "tries"
    bin_dir.mkdir()
    (bin_dir / "ray").write_text(
        f"#!/usr/bin/env bash\necho x >> {tries}\n"
        f"if (( $(wc -l < {tries}) < 3 )); then\n"
        "  echo 'RuntimeError: Request failed with status code 500: No available agent to submit job, please try "
        "again later..' >&2; exit 1\nfi\necho \"Job 'j' succeeded: $*\"\n")
    (bin_dir / "ray").chmod(0o755)
    try:
        # a clean environment: what earlier tests' Ray drivers left in os.environ (RAY_*) must not reach the client
        env = {"HOME": os.environ["HOME"], "RAY_ADDRESS": f"http://127.0.0.1:{server.server_port}",
               "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin", "RAY_AUTH_MODE": "disabled"}
        out = subprocess.run(["bash", "launch/submit.sh", "trainer.steps=1"], cwd=ROOT, capture_output=True, text=True,
                             timeout=120, env=env)
    finally:
        server.shutdown()
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert tries.read_text().count("x") == 3 and "Job 'j' succeeded" in out.stdout, (out.stdout + out.stderr)[-3000:]
    assert out.stderr.count("not up yet") == 2
    assert "rlvr.train" in out.stdout and "trainer.steps=1" in out.stdout


def test_submit_gives_up_on_a_missing_job_agent_after_agent_wait_s(tmp_path):
    """...and does not wait forever: after AGENT_WAIT_S the refusal is the exit status."""
    import os

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ray").write_text("#!/usr/bin/env bash\necho 'No available agent to submit job' >&2; exit 1\n")
    (bin_dir / "ray").chmod(0o755)
    (bin_dir / "python").write_text("#!/usr/bin/env bash\ncat > /dev/null\n")  # the job-server check passes
    (bin_dir / "python").chmod(0o755)
    out = subprocess.run(["bash", "launch/submit.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "AGENT_WAIT_S": "0", "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert out.returncode == 1 and "No available agent" in out.stderr and "not up yet" not in out.stderr
