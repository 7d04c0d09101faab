"""In-process verifier service: cache + counters around a VerifierPool (or plain verify when num_workers=0).

Inputs are capped before anything runs here: a response is cut to its last MAX_RESPONSE_CHARS characters (the only
part extraction reads) and the cache key's extraction is linear in time and memory; a response longer than
KEY_EXTRACT_CHARS is keyed by its text instead, so no extraction runs in this process for it at all."""
import hashlib

from rlvr_verify.cache import LRUCache
from rlvr_verify.extract import extract_answer
from rlvr_verify.limits import MAX_RESPONSE_CHARS
from rlvr_verify.mv_backend import verify_backend
from rlvr_verify.normalize import normalize
from rlvr_verify.pool import VerifierPool
from rlvr_verify.verify import verify_batch


KEY_EXTRACT_CHARS = 20_000


def cache_key(response: str, gold: str, options: dict):
    opts = tuple(sorted(options.items()))  # options include backend: keyed apart
    if len(response or "") > KEY_EXTRACT_CHARS:
        return ("raw", hashlib.sha256(response.encode("utf-8", "replace")).hexdigest(), gold, opts)
    found = extract_answer(response or "", options.get("extract", "any"))
    if found.text is None or len(found.text) > 2000:
        return None
    return (normalize(found.text), gold, opts)


class LocalVerifierService:
    def __init__(self, num_workers: int = 2, timeout_s: float = 5.0, memory_mb: int = 1024, cache_size: int = 100_000):
        self.pool = VerifierPool(num_workers, timeout_s, memory_mb) if num_workers > 0 else None
        self._base = {"worker_crashes": 0, "retries": 0}
        self.cache = LRUCache(cache_size)
        self.counters = {"items": 0, "cache_hits": 0, "timeouts": 0, "parse_failures": 0, "correct": 0, "errors": 0,
                         "worker_crashes": 0, "retries": 0}

    def verify_batch(self, responses, golds, **options):
        responses = [r[-MAX_RESPONSE_CHARS:] if isinstance(r, str) else r for r in responses]
        keys = [cache_key(r, g, options) for r, g in zip(responses, golds)]
        out = [self.cache.get(k) if k is not None else None for k in keys]
        todo = [i for i, v in enumerate(out) if v is None]
        self.counters["cache_hits"] += len(out) - len(todo)
        rs, gs = [responses[i] for i in todo], [golds[i] for i in todo]
        fresh = self.pool.verify_batch(rs, gs, **options) if self.pool else self._in_process(rs, gs, options)
        for i, v in zip(todo, fresh):
            out[i] = v
            if keys[i] is not None and v.reason != "timeout" and not v.error:
                self.cache.put(keys[i], v)
            self.counters["timeouts"] += v.reason == "timeout"
            self.counters["errors"] += v.error
            self.counters["parse_failures"] += v.reason in ("parse_error", "gold_parse_error")
        self.counters["items"] += len(out)
        self.counters["correct"] += sum(v.correct for v in out)
        if self.pool:
            self.counters["worker_crashes"] = self._base["worker_crashes"] + self.pool.counters["crashes"]
            self.counters["retries"] = self._base["retries"] + self.pool.counters["retries"]
        return out

    @staticmethod
    def _in_process(responses, golds, options):
        """num_workers=0: our verifier only; backend='math_verify'/'cascade' need the pool and say so."""
        options = dict(options)
        backend = options.pop("backend", "rlvr")
        if backend == "rlvr":
            return verify_batch(responses, golds, **options)
        return [verify_backend(r, g, backend, options) for r, g in zip(responses, golds)]

    def metrics(self) -> dict:
        return {f"verifier/{k}": v for k, v in self.counters.items()}

    def state_dict(self) -> dict:
        """The cumulative counters, for a checkpoint: load_state_dict after a resume continues them."""
        return dict(self.counters)

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            if k in self.counters:
                self.counters[k] = int(v)
        self._base = {k: self.counters[k] - (self.pool.counters[p] if self.pool else 0)
                      for k, p in (("worker_crashes", "crashes"), ("retries", "retries"))}

    def close(self):
        if self.pool:
            self.pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
