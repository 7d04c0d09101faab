"""`hydra/launcher=ray_jobs`: each cell of a multirun becomes one Ray job on a running Ray cluster.

Why Ray jobs and not Ray tasks: every rlvr run is itself a Ray driver (it places a learner and rollout workers on the
cluster), and a job is the unit Ray runs a driver as, with its own logs and `ray job stop`. Hydra's own Ray launcher
plugin runs cells as tasks and pins cloudpickle<3 (this environment has 3.x); this one needs only Ray's job client.

The sweep directory must be on a file system the cluster nodes share (NFS, Lustre): each job writes its run into
<sweep dir>/<job num>, and the driver reads them back for the sweep report when the multirun ends.
Hydra only discovers launchers in the `hydra_plugins` namespace, hence this package. (No `from __future__ import
annotations`: Hydra execs plugin modules outside sys.modules, where dataclasses cannot resolve string annotations.)
"""
import logging
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher
from omegaconf import DictConfig

log = logging.getLogger(__name__)
DONE = {"SUCCEEDED", "FAILED", "STOPPED"}


@dataclass
class RayJobsLauncherConf:
    """The fields of conf/hydra/launcher/ray_jobs.yaml (a misspelled one fails at launch, naming it)."""
    _target_: str = "hydra_plugins.rlvr_ray_jobs.ray_jobs_launcher.RayJobsLauncher"
    address: str = "http://127.0.0.1:8265"   # the head's dashboard (RAY_ADDRESS of `ray job submit`)
    python: Optional[str] = None             # the interpreter on the nodes; None = this one (shared checkout/venv)
    module: str = "rlvr.train"
    working_dir: Optional[str] = None        # where each job starts; None = this directory (shared file system)
    max_parallel: int = 0                    # jobs running at once; 0 = the whole batch
    poll_s: float = 10.0
    agent_wait_s: float = 120.0              # how long to resubmit while a new head's job agent is not up yet
    entrypoint_num_cpus: float = 0.0         # resources of the job's driver process (the run's actors ask their own)
    entrypoint_num_gpus: float = 0.0
    env_vars: Dict[str, str] = field(default_factory=dict)


class RayJobsLauncher(Launcher):
    def __init__(self, **conf: Any) -> None:
        self.conf = RayJobsLauncherConf(**{k: v for k, v in conf.items() if k != "_target_"})
        self.config: Optional[DictConfig] = None

    def setup(self, *, hydra_context: Any, task_function: Any, config: DictConfig) -> None:
        self.config = config

    # -------------------------------------------------------------------------------------------- what is sent
    def entrypoint(self, overrides: Sequence[str], job_num: int) -> str:
        """`cd <dir> && python -m rlvr.train <overrides>`, with the run dir, wandb group and name that the job
        would have had under the basic launcher (it runs as a single run, so Hydra cannot tell it)."""
        sweep_dir = Path(str(self.config.hydra.sweep.dir)).resolve()
        args = [*overrides, f"hydra.run.dir={sweep_dir / str(job_num)}",
                f"logger.group={'/'.join(sweep_dir.parts[-2:])}",
                # Quoted for Hydra: unquoted, the name's `=` and `,` read as a sweep ("reward=a,trainer.seed=0").
                f"logger.run_name='{self.run_name(overrides)}'"]
        python = self.conf.python or sys.executable
        where = self.conf.working_dir or os.getcwd()
        return f"cd {shlex.quote(where)} && {shlex.quote(python)} -m {self.conf.module} {shlex.join(args)}"

    def run_name(self, overrides: Sequence[str]) -> str:
        """The overrides this job does not share with every other job of the sweep (e.g. reward=random,...)."""
        from hydra.core.override_parser.overrides_parser import OverridesParser

        task = [str(o) for o in self.config.hydra.overrides.task]
        swept = {o.key_or_group for o in OverridesParser.create().parse_overrides(task) if o.is_sweep_override()}
        swept |= {str(k) for k in (self.config.hydra.sweeper.get("params") or {})}
        picked = [o for o in overrides if o.lstrip("+~").partition("=")[0] in swept]
        return ",".join(picked or overrides).replace("'", "")

    # ---------------------------------------------------------------------------------------------- launching
    def client(self):
        from ray.job_submission import JobSubmissionClient

        return JobSubmissionClient(self.conf.address)

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        assert self.config is not None, "setup() first"
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        client = self.client()
        width = self.conf.max_parallel or len(job_overrides)
        returns: List[JobReturn] = []
        for start in range(0, len(job_overrides), width):
            batch = list(enumerate(job_overrides[start:start + width], initial_job_idx + start))
            ids = {num: self.submit(client, list(ov), num) for num, ov in batch}
            finals = self.wait(client, ids)
            returns += [self.job_return(list(ov), num, ids[num], finals[num], client) for num, ov in batch]
        return returns

    def submit(self, client, overrides: List[str], job_num: int) -> str:
        entry = self.entrypoint(overrides, job_num)
        deadline = time.monotonic() + self.conf.agent_wait_s
        while True:
            try:
                job_id = client.submit_job(entrypoint=entry, runtime_env={"env_vars": dict(self.conf.env_vars)},
                                           entrypoint_num_cpus=self.conf.entrypoint_num_cpus,
                                           entrypoint_num_gpus=self.conf.entrypoint_num_gpus)
                break
            except RuntimeError as e:
                # A head that has just started refuses submissions (creating no job) until its job agent registers.
                if "No available agent" not in str(e) or time.monotonic() >= deadline:
                    raise
                log.info("#%d: the head's job agent is not up yet; submitting again in 2 s", job_num)
                time.sleep(2)
        log.info("#%d %s -> Ray job %s", job_num, " ".join(overrides), job_id)
        return job_id

    def wait(self, client, ids: Dict[int, str]) -> Dict[int, str]:
        finals: Dict[int, str] = {}
        while len(finals) < len(ids):
            for num, job_id in ids.items():
                if num not in finals:
                    status = client.get_job_status(job_id)
                    status = str(getattr(status, "value", status))  # ray's JobStatus enum, or a plain string
                    if status in DONE:
                        finals[num] = status
            if len(finals) < len(ids):
                time.sleep(self.conf.poll_s)
        return finals

    def job_return(self, overrides: List[str], job_num: int, job_id: str, status: str, client) -> JobReturn:
        run_dir = Path(str(self.config.hydra.sweep.dir)).resolve() / str(job_num)
        ret = JobReturn(overrides=overrides, working_dir=str(run_dir), task_name=self.conf.module)
        if status == "SUCCEEDED":
            ret.status, ret.return_value = JobStatus.COMPLETED, job_id
        else:
            tail = (client.get_job_logs(job_id) or "")[-2000:]
            ret.status = JobStatus.FAILED
            ret.return_value = RuntimeError(f"Ray job {job_id} ({' '.join(overrides)}) ended {status}; its log "
                                            f"ends with:\n{tail}\n(full log: ray job logs {job_id})")
        return ret
