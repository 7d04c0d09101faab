"""Starting Ray for a run, and the Ray options that put each role where `cluster.*` says.

- No `cluster.address` (cluster=local): a private local cluster whose every listener is on loopback (127.0.0.1),
  dashboard off. Ray, left alone, swaps a loopback node address for the machine's own and lets its servers listen on
  all interfaces; its single-machine switch (the one it uses on macOS/Windows) keeps them on loopback. Inside a Ray
  job (`ray job submit`, launch/submit.sh) or with RAY_ADDRESS=HOST:PORT exported, the run joins that cluster instead.
- `cluster.address` set (cluster=ray_gpu: `auto`): join the running cluster, then check before any actor starts that
  some node offers the custom resources each role asks for (`cluster.learner_resources`, `rollout_resources`,
  `verifier_resources`), and that `trainer.weight_sync=ipc` has a node that can hold learner and engines together.
"""
from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from typing import Any, Callable

from rlvr.config_checks import ConfigError
from rlvr.infra.env import apply_engine_env
from rlvr.infra.lazy_ray import lazy_ray

LOOPBACK = "127.0.0.1"
# Ray's own switch for a cluster of one machine: node address = loopback, servers bound to it (read at import by every
# Ray process, so it is also put in the environment the local cluster's processes inherit).
SINGLE_MACHINE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
ROLES = ("learner", "rollout", "verifier")


def cluster_address(cluster_cfg: Any) -> str | None:
    """The cluster to join: `cluster.address`, else RAY_ADDRESS when it names a cluster (a Ray job's driver gets the
    cluster's address there; an http:// job-server address is for the job client, not for joining)."""
    if cluster_cfg.get("address"):
        return str(cluster_cfg.address)
    env = os.environ.get("RAY_ADDRESS", "").strip()
    return env if env and not env.startswith(("http://", "https://")) else None


def start_ray(cfg: Any, log: Callable[[str], None] = print) -> None:
    """Start or join Ray for the run of `cfg` (no-op when this process already is connected)."""
    ray = lazy_ray()
    if ray.is_initialized():
        return
    c = cfg.cluster
    runtime_env = {"env_vars": apply_engine_env()}
    address = cluster_address(c)
    if address:
        how = "cluster.address" if c.get("address") else "RAY_ADDRESS"
        log(f"ray: joining the cluster at {address} ({how}); its nodes' CPUs/GPUs are used, not cluster.num_cpus")
        ray.init(address=address, log_to_driver=False, runtime_env=runtime_env)
    else:
        log(f"ray: starting a local cluster ({c.num_cpus or 'all'} CPUs), listening on {LOOPBACK} only")
        before = set(_descendants(os.getpid())) if os.path.isdir("/proc") else set()
        with single_machine():
            ray.init(address="local", num_cpus=c.num_cpus, num_gpus=c.num_gpus, include_dashboard=False,
                     log_to_driver=False, runtime_env=runtime_env)
        global _watchdog
        _watchdog = watch_driver(exclude=before)
    check_placement(cfg, alive_node_resources(), log)


_watchdog: subprocess.Popen | None = None


def stop_ray() -> None:
    """Shut down what start_ray started (Ray and its watchdog); the process can start another run after."""
    global _watchdog
    ray = lazy_ray()
    if ray.is_initialized():
        ray.shutdown()
    if _watchdog is not None:
        _watchdog.terminate()
        _watchdog.wait()
        _watchdog = None


@contextmanager
def single_machine():
    """Ray's single-machine mode while a local cluster starts: its processes take 127.0.0.1 as the node address and
    bind their servers to it. The driver's setting is put back afterwards (the running cluster keeps its address)."""
    from ray._private import ray_constants

    old_env, old_flag = os.environ.get(SINGLE_MACHINE_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[SINGLE_MACHINE_ENV] = "0"
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = old_flag
        if old_env is None:
            os.environ.pop(SINGLE_MACHINE_ENV, None)
        else:
            os.environ[SINGLE_MACHINE_ENV] = old_env


# -------------------------------------------------------------------------------------------- the driver's death
# Ray ends its local cluster's GCS, raylet and workers within seconds of the driver's death, but its dashboard and
# runtime-env agents first try to report the raylet's death to the (dead) GCS with a fixed 60 s timeout: measured,
# they linger about 60 s (~200 MB) after a kill -9 of the driver. This watchdog, a small process of its own session,
# polls the driver and ends what is left of the cluster's processes once it is gone.
_WATCHDOG = r"""
import os, signal, sys, time

def started(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None

driver, grace = sys.argv[1].split(":"), float(sys.argv[2])
procs = [p.split(":") for p in sys.argv[3:]]
while started(driver[0]) == driver[1]:
    time.sleep(0.5)
time.sleep(grace)  # the driver's own shutdown (ray.shutdown at exit) first
for sig in (signal.SIGTERM, signal.SIGKILL):
    left = [int(pid) for pid, start in procs if started(pid) == start]
    for pid in left:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    if not left:
        break
    time.sleep(2.0)
"""


def _process_start(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (/proc/PID/stat field 22): with the pid, names one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def watch_driver(exclude: set[int] = frozenset(), grace_s: float = 2.0) -> subprocess.Popen | None:
    """Start the watchdog over this driver's descendants not in `exclude` (those ray.init started). Linux only."""
    if not os.path.isdir("/proc"):
        return None
    me = os.getpid()
    procs = [f"{pid}:{start}" for pid in _descendants(me) if pid not in exclude and (start := _process_start(pid))]
    if not procs:
        return None
    return subprocess.Popen([sys.executable, "-c", _WATCHDOG, f"{me}:{_process_start(me)}", str(grace_s), *procs],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, close_fds=True)


# ------------------------------------------------------------------------------------------------------ placement
def role_resources(cluster_cfg: Any, role: str) -> dict[str, float]:
    """`cluster.<role>_resources` as a plain dict (absent or null: none)."""
    value = cluster_cfg.get(f"{role}_resources") if hasattr(cluster_cfg, "get") else None
    if not value:
        return {}
    return {str(k): float(v) for k, v in dict(value).items()}


def role_options(cluster_cfg: Any, role: str, **options) -> dict[str, Any]:
    """Ray actor options for one actor of `role` (learner rank, rollout worker, verifier): `options` plus the
    role's custom resources."""
    resources = role_resources(cluster_cfg, role)
    return {**options, "resources": resources} if resources else dict(options)


def alive_node_resources() -> list[dict[str, float]]:
    """Total resources of every alive node (Ray's own view)."""
    return [dict(n["Resources"]) for n in lazy_ray().nodes() if n.get("Alive")]


def _fits(node: dict[str, float], need: dict[str, float]) -> int:
    """How many actors needing `need` one node holds (custom resources only; a large number when need is empty)."""
    counts = [int(node.get(k, 0.0) / v + 1e-9) for k, v in need.items() if v > 0]
    return min(counts) if counts else 10 ** 6


def check_placement(cfg: Any, nodes: list[dict[str, float]], log: Callable[[str], None] = print) -> None:
    """Refuse, before any actor starts, a placement no node can satisfy (an actor would wait forever), and an ipc
    weight sync whose learner and engines are pinned to different nodes. Too few slots for every actor is said, not
    refused: nodes may still join (an autoscaler, a restarted node)."""
    c = cfg.cluster
    counts = {"learner": int(c.get("learner_world_size") or 1), "rollout": int(cfg.rollout.num_workers),
              "verifier": 1 if cfg.reward.verifier.get("use_ray_actor", True) else 0}
    offered = sorted({k for n in nodes for k in n if not k.startswith("node:") and k not in
                      ("CPU", "GPU", "memory", "object_store_memory")} or {"none"})
    for role in ROLES:
        need = role_resources(c, role)
        if not need or not counts[role]:
            continue
        slots = sum(_fits(n, need) for n in nodes)
        if slots == 0:
            raise ConfigError(f"cluster.{role}_resources={need}: no node of the Ray cluster offers that (custom "
                              f"resources offered: {', '.join(offered)}). Start a node with it, e.g. "
                              f"RESOURCES='{{\"{next(iter(need))}\": 4}}' launch/ray_worker.sh HEAD:6379, or clear "
                              f"cluster.{role}_resources")
        if slots < counts[role]:
            log(f"ray: only {slots} {role} actor(s) of {counts[role]} fit the nodes offering "
                f"cluster.{role}_resources={need}; the others wait for a node to join")
    if cfg.trainer.weight_sync == "ipc":
        learner, rollout = role_resources(c, "learner"), role_resources(c, "rollout")
        if learner or rollout:
            both = {k: counts["learner"] * learner.get(k, 0.0) + counts["rollout"] * rollout.get(k, 0.0)
                    for k in learner.keys() | rollout.keys()}
            if not any(_fits(n, both) for n in nodes):
                raise ConfigError(
                    f"trainer.weight_sync=ipc hands the engines handles to the learner's memory, so every rollout "
                    f"worker must be on the learner's node, but no node offers both cluster.learner_resources="
                    f"{learner} and cluster.rollout_resources={rollout} for them. Use trainer.weight_sync=collective "
                    f"for engines on other nodes")
