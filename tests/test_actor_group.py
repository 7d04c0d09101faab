"""ActorGroup: ranks, call-all, round-robin shards in item order, and a dead member restarted, re-prepared and
its shard retried (with plain Ray actors, so this runs in seconds)."""
import os

import pytest

from rlvr.infra.actor_group import ActorGroup


class Echo:
    def __init__(self, rank: int, marker: str):
        self.rank, self.marker, self.prepared = rank, marker, False

    def ping(self):
        return self.rank

    def prepare(self):
        self.prepared = True

    def work(self, items, scale=1):
        return [(self.rank, x * scale, self.prepared) for x in items]

    def die_once(self, items):
        flag = f"{self.marker}.{self.rank}"
        if not os.path.exists(flag):
            open(flag, "w").close()
            os._exit(1)
        return [(self.rank, x) for x in items]


@pytest.fixture(scope="module")
def ray_local():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_shards_are_round_robin_and_cover_every_item_once():
    assert ActorGroup.shards(5, 2) == [[0, 2, 4], [1, 3]]
    assert ActorGroup.shards(1, 3) == [[0], [], []]
    assert sorted(i for s in ActorGroup.shards(17, 4) for i in s) == list(range(17))


def test_call_all_and_sharded_calls(ray_local, tmp_path):
    group = ActorGroup(Echo, 3, lambda r: ((r, str(tmp_path / "m")), {}), options={"num_cpus": 0})
    assert group.world_size == 3 and group.call_all("ping") == [0, 1, 2]
    out = group.gather_shards(group.submit_shards("work", list(range(7)), lambda rank: {"scale": 10}))
    assert [(rank, shard) for rank, shard, _ in out] == [(0, [0, 3, 6]), (1, [1, 4]), (2, [2, 5])]
    assert out[1][2] == [(1, 10, False), (1, 40, False)]
    group.kill()


def test_a_dead_member_is_restarted_prepared_and_its_shard_retried(ray_local, tmp_path):
    group = ActorGroup(Echo, 2, lambda r: ((r, str(tmp_path / "m")), {}), options={"num_cpus": 0, "max_restarts": 1})
    restarted = []

    def on_restart(rank):
        # Only the restarted member, as the loop does (a call to all could reach the other member mid-restart).
        import ray

        restarted.append(rank)
        ray.get(group.actors[rank].prepare.remote())

    out = group.gather_shards(group.submit_shards("die_once", [1, 2, 3]), on_restart=on_restart)
    assert sorted(restarted) == [0, 1]
    assert [r for _, _, r in out] == [[(0, 1), (0, 3)], [(1, 2)]]
    group.kill()


@pytest.mark.slow
def test_sync_benchmark_runs_every_transport(ray_local):
    """A smoke run of `python -m bench sync` at the CPU shape (figures, not targets)."""
    from bench.sync import bench_sync

    results = bench_sync("cpu", engines=1, repeats=1, dtype="float32")
    assert set(results) == {"object_store (cpu)", "collective (cpu)", "ipc (cpu)"}
    assert all(r["GB"] > 0.01 and r["GB/s"] > 0 for r in results.values())
