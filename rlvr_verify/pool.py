"""A killable process pool: each item has a hard deadline watched by the parent (no SIGALRM, thread-safe).

A fresh worker announces itself once its imports (sympy) are done; the per-item deadline starts only then, so a
worker restarted after a timeout does not spend the next item's budget on start-up.

A worker that dies (killed, out of memory) is replaced and its item is tried once more on the fresh worker; if that
one dies too, the item gets an explicit `error` verdict (Verdict.error is True), counted in `errors`, never a
silent "wrong". An item that runs past its deadline is a `timeout` (the input itself is slow: not retried).

Verdicts come back in batches (one pipe message per FLUSH_S of work, not per item: the parent's reads were a third
of the pool's cost on two cores). The worker writes the position of the item it is on into shared memory, so when it
hangs or dies the parent knows which item did it; the finished verdicts it had not sent yet are computed again."""
import multiprocessing as mp
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from rlvr_verify.verify import Verdict


READY = "ready"
STARTUP_TIMEOUT_S = 120.0
CHUNK = 32  # items per message to a worker
FLUSH_S = 0.02  # a worker sends the verdicts it has at least this often (and after each item slower than this)


def _worker_main(conn, position, memory_mb: int):
    import os
    import resource
    import time
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from rlvr_verify import mv_backend
    mv_backend.IN_POOL_WORKER = True  # the only process where math-verify (sympy's parser) may run
    conn.send(READY)
    while True:
        msg = conn.recv()
        if msg is None:
            return
        items, options = msg  # several items per message; their verdicts come back in batches
        options = dict(options)
        backend = options.pop("backend", "rlvr")
        test_exit = options.pop("_test_exit", False)  # test-only hooks: die on every item, or hang / die on one
        hang_on, exit_on = options.pop("_test_hang_on", None), options.pop("_test_exit_on", None)
        done, flushed = [], time.monotonic()
        for k, (response, gold) in enumerate(items):
            position.value = k  # read by the parent when this worker hangs or dies: the item that did it
            if test_exit or response == exit_on:
                os._exit(3)
            if response == hang_on:
                time.sleep(3600)
            try:
                verdict = mv_backend.verify_backend(response, gold, backend, options)
            except MemoryError:
                verdict = Verdict(False, 0.0, None, "too_large")
            except Exception as exc:  # a verifier bug: an explicit error verdict, and the worker lives on
                verdict = Verdict(False, 0.0, None, f"error:{type(exc).__name__}")
            done.append(verdict)
            if k == len(items) - 1 or time.monotonic() - flushed >= FLUSH_S:
                conn.send(done)
                done, flushed = [], time.monotonic()


class _Worker:
    def __init__(self, ctx, memory_mb):
        self.conn, child = ctx.Pipe()
        self.position = ctx.Value("i", -1, lock=False)  # the item of the current message the worker is on
        self.proc = ctx.Process(target=_worker_main, args=(child, self.position, memory_mb), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the worker has finished its imports (raises EOFError if it died or never came up)."""
        if self.ready:
            return
        if not self.conn.poll(STARTUP_TIMEOUT_S) or self.conn.recv() != READY:
            raise EOFError("verifier worker did not start")
        self.ready = True

    def kill(self):
        self.proc.kill()
        self.proc.join(timeout=2)
        self.conn.close()


class VerifierPool:
    def __init__(self, num_workers: int = 2, timeout_s: float = 5.0, memory_mb: int = 1024):
        self._ctx = mp.get_context("spawn")
        self.timeout_s, self.memory_mb = timeout_s, memory_mb
        self._idle: queue.Queue = queue.Queue()
        self._workers = [_Worker(self._ctx, memory_mb) for _ in range(num_workers)]
        for w in self._workers:
            self._idle.put(w)
        self._threads = ThreadPoolExecutor(max_workers=num_workers)
        self._lock = threading.Lock()
        self.counters = {"items": 0, "timeouts": 0, "restarts": 0, "crashes": 0, "retries": 0, "errors": 0}

    def _count(self, key):
        with self._lock:
            self.counters[key] += 1

    def _replace(self, worker):
        worker.kill()
        fresh = _Worker(self._ctx, self.memory_mb)
        with self._lock:
            self._workers = [fresh if w is worker else w for w in self._workers]
            self.counters["restarts"] += 1
        return fresh

    def _run_chunk(self, items, options) -> list[Verdict]:
        """Items sent to one worker in one message, their verdicts read back in batches, each batch within timeout_s
        of the one before (or of the send). A timeout kills the worker: the item it was on is 'timeout' and the
        rest (those it had finished but not sent too) go to a fresh worker. A worker that dies takes the item it was
        on with it: that item is tried once more on the fresh worker, then gets an error verdict."""
        out: list[Verdict | None] = [None] * len(items)
        retried: set[int] = set()
        worker, pending = self._idle.get(), list(range(len(items)))
        try:
            while pending:
                got = 0
                try:
                    worker.wait_ready()
                    worker.position.value = -1
                    worker.conn.send(([items[j] for j in pending], options))
                    while got < len(pending):
                        if not worker.conn.poll(self.timeout_s):
                            self._count("timeouts")
                            culprit = pending[max(worker.position.value, got)]
                            out[culprit] = Verdict(False, 0.0, None, "timeout")
                            pending = [j for j in pending[got:] if j != culprit]
                            worker = self._replace(worker)
                            break
                        for verdict in worker.conn.recv():
                            out[pending[got]], got = verdict, got + 1
                    else:
                        pending = []
                except (EOFError, BrokenPipeError, ConnectionResetError, OSError):  # the worker died
                    self._count("crashes")
                    culprit = pending[max(worker.position.value, got)] if pending else None
                    pending = pending[got:]
                    worker = self._replace(worker)
                    if culprit is None:
                        continue
                    if culprit in retried:
                        self._count("errors")
                        out[culprit] = Verdict(False, 0.0, None, "error:worker_crash")
                        pending = [j for j in pending if j != culprit]
                    else:  # once more, on the fresh worker that replaced the dead one
                        retried.add(culprit)
                        self._count("retries")
        finally:
            self._idle.put(worker)
            with self._lock:
                self.counters["items"] += sum(v is not None for v in out)
        return out

    def verify_batch(self, responses, golds, **options) -> list[Verdict]:
        if len(responses) != len(golds):
            raise ValueError(f"verify_batch: {len(responses)} responses but {len(golds)} golds")
        items = list(zip(responses, golds))
        size = max(1, min(CHUNK, -(-len(items) // len(self._workers))))
        futures = [self._threads.submit(self._run_chunk, items[k:k + size], options)
                   for k in range(0, len(items), size)]
        return [v for f in futures for v in f.result()]

    def close(self):
        self._threads.shutdown(wait=True)
        for w in self._workers:
            try:
                w.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            w.proc.join(timeout=2)
            if w.proc.is_alive():
                w.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
