"""Runs on Ray clusters without a cluster: several Ray "nodes" on this machine (tests/multinode.py: launch/ray_head.sh
and launch/ray_worker.sh, each node with its own custom resource), joined the way a real cluster is joined.

- placement: the learner (both FSDP ranks at learner_world_size=2) on the node offering `learner`, the rollout workers
  on the `rollout` node, the verifier on the node cluster.verifier_resources names, read from Ray's own state;
- a short run with trainer.weight_sync=collective across nodes passes the log-prob check after every sync;
- trainer.weight_sync=ipc across nodes is refused before any step, in one line naming collective;
- node loss: the rollout node dies mid-run; its workers are re-placed on a node that joins, and the run continues;
- the same run through `ray job submit` (launch/submit.sh) to the simulated head, with cluster=local too;
- a single-node run listens on loopback only, and its Ray processes are gone within seconds of a kill -9 of the driver.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rlvr.config import compose
from rlvr.loop import train
from rlvr.config_checks import ConfigError
from rlvr.infra.ray_start import check_placement, role_options
from tests.multinode import ROOT, LocalCluster, script_env

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SMALL = ["model.warm_start.enabled=false", "rollout.engine=hf", "rollout.prompts_per_step=2", "rollout.n=2",
         "rollout.max_tokens=4", "trainer.eval_size=2", "trainer.eval_every=100", "trainer.checkpoint_every=100",
         "logger.wandb_mode=disabled", "reward.verifier.num_workers=0"]
LOOPBACK_IPS = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}
# The simulated nodes share 127.0.0.2 (all of 127/8 is loopback on Linux only) and the watchdog reads /proc.
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux loopback and /proc")


# ------------------------------------------------------------------------------ placement checks (no Ray needed)
def _cfg(*overrides):
    return compose(list(overrides))


@pytest.mark.parametrize("overrides,nodes,match", [
    (["+cluster.rollout_resources.rollout=1"], [{"CPU": 2.0}], "no node of the Ray cluster offers"),
    (["+cluster.learner_resources.learner=1", "+cluster.rollout_resources.rollout=1", "trainer.weight_sync=ipc"],
     [{"CPU": 1.0, "learner": 1.0}, {"CPU": 1.0, "rollout": 1.0}], "weight_sync=collective"),
])
def test_placement_no_node_can_hold_is_refused_before_any_actor(overrides, nodes, match):
    with pytest.raises(ConfigError, match=match) as e:
        check_placement(_cfg(*overrides), nodes, log=lambda s: None)
    assert "\n" not in str(e.value)


def test_placement_that_fits_passes_and_too_few_slots_are_said():
    lines = []
    cfg = _cfg("+cluster.learner_resources.learner=1", "+cluster.rollout_resources.rollout=1", "rollout.num_workers=2",
               "trainer.weight_sync=ipc")
    check_placement(cfg, [{"CPU": 2.0, "learner": 1.0, "rollout": 2.0}], log=lines.append)  # ipc: one node holds all
    assert lines == []
    check_placement(_cfg("+cluster.rollout_resources.rollout=1", "rollout.num_workers=2"),
                    [{"rollout": 1.0}], log=lines.append)
    assert len(lines) == 1 and "1 rollout actor(s) of 2" in lines[0]
    assert role_options(cfg.cluster, "rollout", num_cpus=1) == {"num_cpus": 1, "resources": {"rollout": 1.0}}
    assert role_options(_cfg().cluster, "learner", num_cpus=1) == {"num_cpus": 1}


# ------------------------------------------------------------------------------------------- a single-node run
def _descendants(pid):
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@linux_only
def test_local_run_listens_on_loopback_only_and_leaves_no_orphans(tmp_path, tiny_model_dir):
    """`python -m rlvr.train` with cluster=local: every TCP listener of the driver and of the Ray processes it started
    is on 127.0.0.1; after a kill -9 of the driver, all of them are gone within seconds (Ray alone leaves its two agents
    for about a minute)."""
    psutil = pytest.importorskip("psutil")
    args = [*SMALL, f"model.cache_dir={tiny_model_dir.parent.parent}", "trainer.steps=10000",
            f"hydra.run.dir={tmp_path / 'run'}"]
    env = {k: v for k, v in script_env(PYTHONUNBUFFERED="1").items() if k != "RAY_ADDRESS"}
    driver = subprocess.Popen([sys.executable, "-m", "rlvr.train", *args], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    seen, out = {}, []
    guard = threading.Timer(300, driver.kill)  # a hung start fails the test instead of hanging it
    guard.start()
    try:
        for line in driver.stdout:  # held-out evaluation done: every actor is up and has served
            out.append(line)
            if "held-out accuracy before RL" in line:
                break
        assert driver.poll() is None, "".join(out)[-3000:]
        time.sleep(2)
        procs = [psutil.Process(driver.pid), *_descendants(driver.pid)]
        pids = {p.pid for p in procs}
        for c in psutil.net_connections(kind="inet"):
            if c.status == psutil.CONN_LISTEN and c.pid in pids:
                seen[(c.laddr.ip, c.laddr.port)] = psutil.Process(c.pid).name()
        assert len(seen) >= 3, seen  # the GCS, the raylet, the workers: found at all
        assert {ip for ip, _ in seen} <= LOOPBACK_IPS, seen
        ray_procs = [p for p in procs[1:] if p.is_running()]
    finally:
        guard.cancel()
        if driver.poll() is None:
            os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    deadline = time.time() + 45  # Ray's agents alone stay ~60 s; the watchdog ends them a few seconds after
    while time.time() < deadline:
        left = [p for p in ray_procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not left:
            break
        time.sleep(0.5)
    assert not left, [(p.pid, p.name()) for p in left]


# --------------------------------------------------------------------------------- a simulated multi-node cluster
# A lost node is noticed in ~3 s instead of Ray's default ~15-30 s (GCS health checks every 1 s, 3 failures).
FAST_HEALTH_CHECK = {"RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
                     "RAY_health_check_failure_threshold": "3", "RAY_health_check_initial_delay_ms": "1000"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The head offers `learner` (2 ranks' worth), the worker node `rollout` (2 workers) and `verifier`."""
    c = LocalCluster(tmp_path_factory.mktemp("cluster"), head_cpus=3, head_resources={"learner": 2},
                     system_env=FAST_HEALTH_CHECK)
    try:
        c.add_node("rollout", {"rollout": 2, "verifier": 1}, num_cpus=3)
        c.wait_for_resources(["learner", "rollout"])
        yield c
    finally:
        c.stop()


@pytest.fixture
def driver(monkeypatch):
    """This test process as the run's driver: start_ray joins the cluster (cluster.address); disconnects after. The
    nodes require Ray's token when one exists (script_env); for an explicit address Ray sends it only when told."""
    import ray

    if script_env().get("RAY_AUTH_MODE") == "token" and os.environ.get("RAY_AUTH_MODE") != "token":
        from ray._raylet import Config

        monkeypatch.setenv("RAY_AUTH_MODE", "token")
        Config.initialize("")  # Ray reads the mode once; read it again
    yield
    ray.shutdown()


PLACED = ["+cluster.learner_resources.learner=1", "+cluster.rollout_resources.rollout=1"]


def _run(run_dir, cluster, cache, *overrides):
    from rlvr.run import Run

    return Run(compose([*SMALL, f"model.cache_dir={cache}", f"cluster.address={cluster.address}",
                            "cluster.num_cpus=1", *PLACED, *overrides]), run_dir)


def _node_ids() -> dict[str, str]:
    """Custom resource -> the id of the alive node offering it (Ray's view)."""
    import ray

    return {k: n["NodeID"] for n in ray.nodes() if n["Alive"] for k in n["Resources"]
            if k in ("learner", "rollout", "verifier")}


def _actor_nodes(cluster, handles) -> list[str]:
    """Where Ray's state API (the head's) says each actor runs."""
    from ray.util.state import list_actors

    ids = [h._actor_id.hex() for h in handles]
    where = {a.actor_id: a.node_id for a in list_actors(address=cluster.address, filters=[("state", "=", "ALIVE")],
                                                               limit=10_000)}
    return [where.get(i) for i in ids]


def _steps(run_dir: Path) -> list[dict]:
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r.get("step", 0) > 0]


@linux_only
def test_ipc_across_nodes_is_refused_before_any_actor_starts(cluster, driver, tmp_path, tiny_model_dir):
    run = _run(tmp_path, cluster, tiny_model_dir.parent.parent, "trainer.weight_sync=ipc", "trainer.steps=2")
    with pytest.raises(ConfigError, match="weight_sync=collective") as e:
        train(run)
    assert "\n" not in str(e.value) and run.learner is None and not (tmp_path / "metrics.jsonl").exists()


@linux_only
def test_roles_run_where_configured_and_collective_sync_holds_across_nodes(cluster, driver, tmp_path,
                                                                          tiny_model_dir):
    """Both FSDP learner ranks on the learner node, both rollout workers and the verifier on the other node; two
    steps with weight_sync=collective, each sync's log-prob check passing."""
    run = _run(tmp_path, cluster, tiny_model_dir.parent.parent, "cluster.learner_world_size=2",
                       "rollout.num_workers=2", "reward.verifier.use_ray_actor=true",
                       "+cluster.verifier_resources.verifier=1", "trainer.weight_sync=collective", "trainer.steps=2",
                       "reward=random")
    try:
        train(run, close=False)
        nodes = _node_ids()
        assert nodes["learner"] != nodes["rollout"]
        assert _actor_nodes(cluster, run.learner.actors.actors) == [nodes["learner"]] * 2
        assert _actor_nodes(cluster, run.workers) == [nodes["rollout"]] * 2
        assert _actor_nodes(cluster, [run.parts.verifier.actor]) == [nodes["verifier"]]
        steps = _steps(tmp_path)
        assert [r["step"] for r in steps] == [1, 2]
        assert all(r["sync_max_logprob_error"] <= 1e-4 for r in steps), steps
        assert any(r.get("grad_norm", 0) > 0 for r in steps)  # weights moved, and the engines followed
    finally:
        run.close()


@linux_only
def test_ray_job_submit_to_the_head_with_cluster_local(cluster, tmp_path, tiny_model_dir):
    """launch/submit.sh to the simulated head's job server, cluster=local as on a laptop: the job's driver joins the
    cluster it runs in (RAY_ADDRESS), places the roles across its nodes and syncs over collective."""
    cluster.wait_for_job_server()
    overrides = ["cluster=local", *SMALL, f"model.cache_dir={tiny_model_dir.parent.parent}", *PLACED,
                 "reward.verifier.use_ray_actor=false", "trainer.weight_sync=collective", "trainer.steps=2"]
    out = subprocess.run(["bash", "launch/submit.sh", *overrides], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env=script_env(RAY_ADDRESS=cluster.job_server, WAIT="1",
                                                     RUNS_DIR=str(tmp_path / "runs")))
    log = out.stdout + out.stderr
    assert out.returncode == 0 and "succeeded" in log, log[-4000:]
    assert f"joining the cluster at {cluster.address}" in log and "(RAY_ADDRESS)" in log, log[-4000:]
    (metrics,) = (tmp_path / "runs" / "debug_cpu").glob("*/metrics.jsonl")
    steps = _steps(metrics.parent)
    assert [r["step"] for r in steps] == [1, 2] and all(r["sync_max_logprob_error"] <= 1e-4 for r in steps)


@linux_only
def test_a_lost_rollout_node_is_replaced_by_a_joining_node_and_the_run_continues(cluster, driver, tmp_path,
                                                                                tiny_model_dir, monkeypatch):
    """The rollout node dies (every process of it SIGKILLed) before step 2. Ray restarts the rollout worker where the
    resource it asks for is offered again: a node that joins. The run waits for it, re-syncs its weights (the
    collective group is rebuilt with the new member), retries the shard and finishes, every sync check passing, with
    the same metrics as an uninterrupted run."""
    from rlvr.run import Run

    config = ["trainer.weight_sync=collective", "trainer.steps=3", "reward=random",
              "reward.verifier.use_ray_actor=false"]
    train(_run(tmp_path / "whole", cluster, tiny_model_dir.parent.parent, *config))
    run = _run(tmp_path / "lost", cluster, tiny_model_dir.parent.parent, *config)
    real_step, where = Run.step, {}

    def step(self, i):
        if i == 1:
            where["before"] = _actor_nodes(cluster, self.workers)[0]
            old = next(n for n in cluster.nodes.values() if "rollout" in n.resources and n.proc.poll() is None)
            old.kill()
            cluster.add_node("spare", {"rollout": 2, "verifier": 1}, num_cpus=3)
        return real_step(self, i)

    monkeypatch.setattr(Run, "step", step)
    try:
        train(run, close=False)
        nodes = _node_ids()
        where["after"] = _actor_nodes(cluster, run.workers)[0]
        assert where["before"] != where["after"] == nodes["rollout"], (where, nodes)
        assert run.counters["worker_restarts"] >= 1
        steps = _steps(tmp_path / "lost")
        assert [r["step"] for r in steps] == [1, 2, 3]
        assert all(r["sync_max_logprob_error"] <= 1e-4 for r in steps), steps

        def same(rows):  # timings and the verifier's cache counters differ; what was sampled and learned must not
            return [{k: v for k, v in r.items() if not k.startswith(("time/", "tokens_per_s", "verifier/"))}
                    for r in rows]

        assert same(steps) == same(_steps(tmp_path / "whole"))
    finally:
        run.close()
