"""The Ray actor wrapper: VerifierService.options(...).remote(...) then .verify_batch.remote(responses, golds)."""
import ray

from rlvr_verify.local_service import LocalVerifierService


@ray.remote
class VerifierService:
    def __init__(self, num_workers: int = 2, timeout_s: float = 5.0, memory_mb: int = 1024, cache_size: int = 100_000):
        self._local = LocalVerifierService(num_workers, timeout_s, memory_mb, cache_size)

    def verify_batch(self, responses, golds, **options):
        return self._local.verify_batch(responses, golds, **options)

    def metrics(self) -> dict:
        return self._local.metrics()

    def state_dict(self) -> dict:
        return self._local.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self._local.load_state_dict(state)

    def close(self):
        self._local.close()
