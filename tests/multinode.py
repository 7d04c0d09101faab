"""A Ray cluster of several "nodes" on this machine, started the way a real one is: launch/ray_head.sh for the head
(with its job server), launch/ray_worker.sh for each other node, each a `ray start --block` with its own temp dir, its
own ports, custom resources to tell the nodes apart, and one loopback NODE_IP so that their traffic stays on this
machine.

Stopping a node: SIGTERM to its `ray start --block` (it drains the node and stops what it started); losing a node:
SIGKILL to its process group and every descendant. `ray stop` is never used: it would end every Ray instance on the
machine.

A worker node whose `ray start` exits on its own is started again, as a cluster's orchestrator would (a pod's restart
policy, a Slurm requeue): on a loaded 2-core machine Ray's fixed 30 s wait for a raylet to register can run out.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One loopback address for every node: their traffic stays on this machine (127.0.0.1 itself would put Ray in its
# one-machine mode, which refuses other nodes; see launch/ray_head.sh).
LOOPBACK = "127.0.0.2"


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("", 0))  # Ray binds some of them on every interface
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def script_env(**extra: str) -> dict[str, str]:
    """This environment with the venv's `ray` and `python` first on PATH (what the launch scripts call)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **extra}
    if "RAY_AUTH_MODE" not in env and (Path.home() / ".ray" / "auth_token").is_file():
        env["RAY_AUTH_MODE"] = "token"  # a token exists: Ray's own clients (job client, ray status) send it
    return env


class Node:
    def __init__(self, name: str, proc: subprocess.Popen, temp_dir: str, log: Path, resources: dict, num_cpus: int):
        self.name, self.proc, self.temp_dir, self.log, self.resources = name, proc, temp_dir, log, resources
        self.num_cpus = num_cpus
        self.ended_on_purpose = False  # stop() or kill(): the supervisor leaves it down

    def stop(self, timeout_s: float = 60.0) -> None:
        """End this node's processes, nothing else on the machine: SIGTERM to `ray start --block` (it drains the node
        and stops what it started), then SIGKILL to whatever is left in its process group."""
        self.ended_on_purpose = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        """The node is lost: all its processes get SIGKILL at once (no draining, no goodbye to the GCS): its process
        group and every descendant (Ray's worker processes leave the group)."""
        import psutil

        self.ended_on_purpose = True
        try:
            procs = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            procs = []
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait()

    def log_tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


class LocalCluster:
    """A head (launch/ray_head.sh) plus worker nodes (launch/ray_worker.sh) on loopback, each with its own temp dir."""

    def __init__(self, workdir: Path, head_cpus: int = 1, head_resources: dict | None = None,
                 system_env: dict[str, str] | None = None):
        self.workdir = Path(workdir)
        self.nodes: dict[str, Node] = {}
        # Ray system settings for every node (e.g. a faster health check, so a lost node is noticed in seconds).
        self.system_env = dict(system_env or {})
        self.gcs_port, self.dashboard_port = free_ports(2)
        self.address = f"{LOOPBACK}:{self.gcs_port}"
        self.job_server = f"http://127.0.0.1:{self.dashboard_port}"  # ray_head.sh's DASHBOARD_HOST default
        client, = free_ports(1)
        self._start("head", ["launch/ray_head.sh", f"--ray-client-server-port={client}"], head_cpus,
                    head_resources or {}, RAY_PORT=str(self.gcs_port), DASHBOARD_PORT=str(self.dashboard_port))
        self.restarts: dict[str, int] = {}  # worker node name -> times the supervisor started it again
        self._lock, self._stopping = threading.Lock(), threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="cluster-supervisor", daemon=True)
        self._supervisor.start()

    def _start(self, name: str, command: list[str], num_cpus: int, resources: dict, **env: str) -> Node:
        agent, agent_grpc, metrics, env_agent = free_ports(4)
        temp = tempfile.mkdtemp(prefix=f"rn{name[:4]}", dir="/tmp")  # short: Ray's unix sockets live under it
        log = self.workdir / f"node-{name}.log"
        args = [*command, "--block", f"--temp-dir={temp}", f"--dashboard-agent-listen-port={agent}",
                f"--dashboard-agent-grpc-port={agent_grpc}", f"--metrics-export-port={metrics}",
                f"--runtime-env-agent-port={env_agent}", "--min-worker-port=0", "--max-worker-port=0",
                "--disable-usage-stats"]
        proc = subprocess.Popen(
            ["bash", *args], cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True,
            env=script_env(NUM_CPUS=str(num_cpus), NUM_GPUS="0", RESOURCES=json.dumps(resources), NODE_IP=LOOPBACK,
                           **self.system_env, **env))
        node = self.nodes[name] = Node(name, proc, temp, log, resources, num_cpus)
        return node

    def add_node(self, name: str, resources: dict, num_cpus: int = 1) -> Node:
        """Start a worker node. The head is waited for first: a raylet started while the head is still busy starting
        its own processes is the one that misses Ray's registration deadline."""
        if not self.alive_nodes():
            self.wait_for(self.alive_nodes, "the head did not come up")
        with self._lock:
            return self._start(name, ["launch/ray_worker.sh", self.address], num_cpus, resources)

    MAX_RESTARTS = 3

    def _supervise(self) -> None:
        """Start again a worker node whose `ray start` ended without stop() or kill() (at most MAX_RESTARTS times
        each); its log so far is kept beside the new one."""
        while not self._stopping.wait(1.0):
            with self._lock:
                for node in list(self.nodes.values()):
                    # poll() first: stop() and kill() mark the node before they signal it
                    if (node.name == "head" or node.proc.poll() is None or node.ended_on_purpose
                            or self.restarts.get(node.name, 0) >= self.MAX_RESTARTS):
                        continue
                    self.restarts[node.name] = self.restarts.get(node.name, 0) + 1
                    node.kill()  # whatever it left behind
                    shutil.rmtree(node.temp_dir, ignore_errors=True)
                    node.log.rename(node.log.with_suffix(f".exited{self.restarts[node.name]}.log"))
                    self._start(node.name, ["launch/ray_worker.sh", self.address], node.num_cpus, node.resources)

    def alive_nodes(self) -> list[dict]:
        """[{node_id, resources, ...}] of the alive nodes, from the GCS (a short-lived process: no driver here)."""
        probe = ("import json, sys, ray\n"
                 "ray.init(address=sys.argv[1], log_to_driver=False, logging_level='ERROR')\n"
                 "print(json.dumps([{'node_id': n['NodeID'], 'resources': n['Resources']} for n in ray.nodes() "
                 "if n['Alive']]))\n")
        out = subprocess.run([sys.executable, "-c", probe, self.address], capture_output=True, text=True,
                             env=script_env(), timeout=120)
        if out.returncode != 0:
            return []
        return json.loads(out.stdout.strip().splitlines()[-1])

    def wait_for(self, predicate, what: str, timeout_s: float = 180.0, every_s: float = 1.0):
        deadline = time.time() + timeout_s
        while True:
            for node in list(self.nodes.values()):
                if node.proc.poll() is not None and node.name == "head":
                    raise RuntimeError(f"the head exited:\n{node.log_tail()}")
            value = predicate()
            if value:
                return value
            if time.time() > deadline:
                logs = "\n".join(f"--- {n.name} (started again {self.restarts.get(n.name, 0)} times)\n"
                                 f"{n.log_tail(1500)}" for n in list(self.nodes.values()))
                raise TimeoutError(f"{what} within {timeout_s:.0f} s\n{logs}")
            time.sleep(every_s)

    def wait_for_resources(self, names: list[str], timeout_s: float = 180.0) -> list[dict]:
        """Block until alive nodes offer each custom resource in `names` (one node per name)."""
        return self.wait_for(lambda: (lambda nodes: nodes if all(any(k in n["resources"] for n in nodes)
                                                                 for k in names) else None)(self.alive_nodes()),
                             f"nodes offering {names} did not join", timeout_s)

    def job_server_up(self) -> bool:
        probe = ("import sys; from ray.job_submission import JobSubmissionClient as C\n"
                 "try: C(sys.argv[1]).list_jobs()\nexcept Exception: sys.exit(1)")
        return subprocess.run([sys.executable, "-c", probe, self.job_server], env=script_env(),
                              capture_output=True, timeout=120).returncode == 0

    def wait_for_job_server(self, timeout_s: float = 180.0) -> None:
        self.wait_for(self.job_server_up, f"the job server at {self.job_server} did not answer", timeout_s, 2.0)

    def stop(self) -> None:
        self._stopping.set()
        self._supervisor.join()
        for name in [n for n in self.nodes if n != "head"] + ["head"]:
            if name in self.nodes:
                self.nodes[name].stop()
                shutil.rmtree(self.nodes[name].temp_dir, ignore_errors=True)
