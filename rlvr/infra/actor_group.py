"""A group of Ray actors of one role with ranks: call every member, shard a batch across them, survive a restart.

Rollout workers use it today; learner ranks (data parallel) are the next user, hence ranks and world size.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from rlvr.infra.lazy_ray import lazy_ray


class ActorGroup:
    """`world_size` actors of `actor_cls`, rank r built with `make_args(r) -> (args, kwargs)`.

    A member that dies is restarted by Ray (max_restarts in `options`); `gather_shards` then waits for it, calls
    `on_restart(rank)` (e.g. re-sync its weights) and retries its shard once.
    """

    def __init__(self, actor_cls: type, world_size: int, make_args: Callable[[int], tuple[tuple, dict]],
                 options: dict[str, Any] | None = None, name: str = "actor"):
        ray = lazy_ray()
        self.name = name
        remote_cls = ray.remote(actor_cls).options(**(options or {}))
        self.actors = []
        for rank in range(world_size):
            args, kwargs = make_args(rank)
            self.actors.append(remote_cls.remote(*args, **kwargs))

    @property
    def world_size(self) -> int:
        return len(self.actors)

    def call_all(self, method: str, *args, **kwargs) -> list[Any]:
        """Call `method` on every member with the same arguments; results in rank order."""
        return lazy_ray().get(self.submit_all(method, *args, **kwargs))

    def submit_all(self, method: str, *args, **kwargs) -> list[Any]:
        """The same call on every member, without waiting: object refs in rank order."""
        return [getattr(a, method).remote(*args, **kwargs) for a in self.actors]

    @staticmethod
    def shards(num_items: int, world_size: int) -> list[list[int]]:
        """Round-robin item indices per rank (rank r gets r, r + k, r + 2k, ...), so shards differ by at most one."""
        return [list(range(r, num_items, world_size)) for r in range(world_size)]

    def submit_shards(self, method: str, items: Sequence[Any], kwargs_of: Callable[[int], dict] | None = None
                      ) -> list[tuple[int, list[int], Any, Callable[[], Any]]]:
        """Start the sharded calls without waiting (rollouts that overlap with learning)."""
        kwargs_of = kwargs_of or (lambda rank: {})
        out = []
        for rank, shard in enumerate(self.shards(len(items), self.world_size)):
            if shard:
                call = (lambda r=rank, s=shard: getattr(self.actors[r], method).remote([items[j] for j in s],
                                                                                       **kwargs_of(r)))
                out.append((rank, shard, call(), call))
        return out

    def gather_shards(self, submitted, on_restart: Callable[[int], None] | None = None
                      ) -> list[tuple[int, list[int], Any]]:
        """Wait for submit_shards' calls; a dead member is waited for, re-prepared by on_restart, and retried."""
        ray = lazy_ray()
        out = []
        for rank, shard, fut, call in submitted:
            try:
                result = ray.get(fut)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                self.wait_until_alive(rank)
                if on_restart is not None:
                    on_restart(rank)
                result = ray.get(call())
            out.append((rank, shard, result))
        return out

    def wait_until_alive(self, rank: int, timeout_s: float = 300.0) -> None:
        """Block until a restarting member answers `ping` (its constructor reloads the model), or fail loudly."""
        ray = lazy_ray()
        deadline = time.time() + timeout_s
        while True:
            try:
                ray.get(self.actors[rank].ping.remote(), timeout=30)
                return
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                    ray.exceptions.GetTimeoutError):
                if time.time() > deadline:
                    raise RuntimeError(f"{self.name} {rank} did not come back within {timeout_s:.0f} s after dying; "
                                       f"see the Ray logs (/tmp/ray/session_latest/logs)") from None
                time.sleep(1.0)

    def kill(self) -> None:
        ray = lazy_ray()
        for actor in self.actors:
            ray.kill(actor)
