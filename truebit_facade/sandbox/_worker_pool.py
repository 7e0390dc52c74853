"""The worker pool: function tasks run in worker processes, never in the server's process.

A task that loops on host calls holds its interpreter's GIL; in the server's own process it would
stall the event loop, the wall-clock ticker and every other run. So each run goes to a worker process
(``_worker_process``: a fresh interpreter, as multiprocessing's ``spawn`` makes, with its own signal
dispositions), one run per worker at a time, over one socket per worker (multiprocessing's
``Connection``: pickled messages). Workers start on demand (at most ``size``, by default one per core)
and stay for the next run; each keeps its compiled modules, and the pool remembers which, so a module
is sent (and compiled) once per worker, and preferably runs on a worker that has it. A module that
failed to link is remembered by the pool (by task id): its next runs fail at once, with no worker.

The pool (in the calling thread, which waits on the pipe without holding the GIL) enforces from
outside what a worker cannot be trusted to enforce on itself:

* **the wall clock**: a run still going ``GRACE_SECONDS`` past its limit (counted from the hand-over,
  compiling included) is ended by killing its worker with SIGKILL; it fails with the same ``time
  limit`` reason the worker would give;
* **memory**: while a run goes, the worker's resident memory (``/proc/PID/statm``) is read every
  ``POLL_SECONDS``; past the backstop (:func:`memory_backstop`) the worker is killed and the run
  fails with a ``memory limit`` reason. This catches what the run's own limits miss;
* **death**: a worker that dies (the kernel's OOM killer, a signal) raises :class:`WorkerCrashed`
  for its own run only.

One worker process, and the watch kept on it during a run, are ``_worker``'s. A killed or dead
worker is replaced by the next run that needs one. :meth:`WorkerPool.close` kills
every worker. The sandboxes of one process share one pool per size (:func:`shared_pool`, closed at
exit), so a test suite that starts a sandbox per test starts its workers once; :class:`PoolShare` is
one dispatcher's use of a pool: closing it ends that dispatcher's runs only (their workers are killed
and replaced).

``concurrent.futures.ProcessPoolExecutor`` is not used: it turns broken for every pending run as soon
as one worker is killed.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from ._wasm import MAX_CACHED_MODULES, RunResult
from ._worker import POLL_SECONDS, START_SECONDS, Ended, Watch, Worker, WorkerCrashed, WorkerStopped

if TYPE_CHECKING:
    from ._config import TaskLimits
    from ._registry import FunctionTask

__all__ = [
    "GRACE_SECONDS",
    "POLL_SECONDS",
    "START_SECONDS",
    "PoolShare",
    "WorkerCrashed",
    "WorkerPool",
    "WorkerStopped",
    "memory_backstop",
    "shared_pool",
]

logger = logging.getLogger("truebit_facade.sandbox")

#: How long past its wall-clock limit a run may go before its worker is killed (the worker's own
#: epoch deadline normally ends it at the limit, with the same reason).
GRACE_SECONDS = 0.2
_LINK_FAILURES_KEPT = 1024


def memory_backstop(limits: TaskLimits, configured: int | None = None) -> int:
    """The resident memory a worker may reach during a run with ``limits``: ``configured``, or 256 MiB
    (the interpreter and wasmtime) plus twice what the run's limits let it hold (linear memory, files,
    output)."""
    if configured is not None:
        return configured
    held = limits.memory_pages * 65536 + limits.scratch_bytes + limits.output_bytes
    return (256 << 20) + 2 * held


class WorkerPool:
    """Up to ``size`` worker processes running function tasks (see the module docstring); thread-safe:
    :meth:`run` blocks its calling thread until the run ends."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size if size is not None else (os.cpu_count() or 1)
        if self.size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._workers: set[Worker] = set()
        self._busy: set[Worker] = set()
        self._starting = 0
        self._waiting = 0
        self._warmers: list[threading.Thread] = []
        self._link_failures: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.closed = False
        #: The process whose workers these are (a forked child must not use or kill them).
        self.pid = os.getpid()
        #: What ``GET /_sandbox/stats`` reports under ``workers``.
        self.counters: collections.Counter[str] = collections.Counter()

    # -- workers -----------------------------------------------------------------------------------

    def warm(self, count: int = 1) -> threading.Thread | None:
        """Start workers in the background until ``count`` are idle, so the first runs need not wait
        for one; the thread doing it, or ``None`` if there are enough."""
        with self._cond:
            if self.closed or len(self._idle) + self._starting >= count:
                return None
            thread = threading.Thread(
                target=self._warm, args=(count,), name="truebit-sandbox-warm", daemon=True
            )
            self._warmers = [t for t in self._warmers if t.is_alive()]
            self._warmers.append(thread)
        thread.start()
        return thread

    def _warm(self, count: int) -> None:
        for _ in range(min(count, self.size)):
            with self._cond:
                if (
                    self.closed
                    or len(self._idle) >= count
                    or len(self._workers) + self._starting >= self.size
                ):
                    return
                self._starting += 1
            try:
                worker = self._start_worker()
            except Exception as exc:  # the first run will try again and report it
                logger.warning("starting a sandbox worker failed: %s", exc)
                return
            self._release(worker, healthy=True)

    def _start_worker(self) -> Worker:
        """A new worker (``_starting`` already counts it)."""
        try:
            worker = Worker()
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            self._workers.add(worker)
            self.counters["started"] += 1
            closed = self.closed
        if closed:
            self._retire(worker)
            raise WorkerStopped("the worker pool is closed")
        return worker

    def _acquire(self, task_id: str, stop: threading.Event | None) -> Worker:
        with self._cond:
            self._waiting += 1
            try:
                while True:
                    if self.closed or (stop is not None and stop.is_set()):
                        raise WorkerStopped("the sandbox stopped before the run started")
                    if self._idle:
                        for index in range(len(self._idle) - 1, -1, -1):
                            if task_id in self._idle[index].modules:
                                return self._idle.pop(index)
                        return self._idle.pop()
                    # A worker already starting is for one of the runs waiting: start another
                    # only for the runs beyond those.
                    if len(self._workers) + self._starting < self.size and self._waiting > self._starting:
                        self._starting += 1
                        break
                    self._cond.wait(POLL_SECONDS)
            finally:
                self._waiting -= 1
        return self._start_worker()

    def _release(self, worker: Worker, *, healthy: bool) -> None:
        with self._cond:
            if healthy and not self.closed and worker.alive:
                self._idle.append(worker)
                self._cond.notify()
                return
        self._retire(worker)

    def _retire(self, worker: Worker) -> None:
        worker.close()
        with self._cond:
            self._workers.discard(worker)
            self._cond.notify()

    # -- running -----------------------------------------------------------------------------------

    def run(
        self,
        task: FunctionTask,
        input_text: str,
        *,
        gas_limit: int,
        limits: TaskLimits,
        memory_bytes: int | None = None,
        stop: threading.Event | None = None,
    ) -> RunResult:
        """Run ``task`` in a worker; never raises for task faults (``WorkerCrashed`` and
        ``WorkerStopped`` are the sandbox's). ``stop`` set: the run is abandoned within
        ``POLL_SECONDS``."""
        with self._cond:
            failure = self._link_failures.get(task.task_id)
            if failure is not None:
                self.counters["linkFailuresReused"] += 1
        if failure is not None:
            return RunResult(output=failure, execution_status="failed", gas_used=0, reason=failure)
        worker = self._acquire(task.task_id, stop)
        started = time.monotonic()
        healthy = False
        with self._cond:
            self._busy.add(worker)
        try:
            watch = Watch(
                deadline=started + limits.wall_clock_seconds + GRACE_SECONDS,
                limits=limits,
                memory=memory_backstop(limits, memory_bytes),
                stop=stop,
                pool_closed=lambda: self.closed,
            )
            reply = worker.execute(task, (input_text, gas_limit, dict(vars(limits)), started), watch)
            healthy = True
        except Ended as ended:
            with self._cond:
                self.counters[ended.counter] += 1
            logger.info("worker %d killed: %s", worker.pid, ended.result.reason)
            return ended.result
        except WorkerCrashed:
            with self._cond:
                self.counters["crashes"] += 1
            raise
        finally:
            with self._cond:
                self._busy.discard(worker)
            self._release(worker, healthy=healthy)
        if reply[0] == "error":
            raise RuntimeError(reply[1])
        _, result, compiled, evicted = reply
        with self._cond:
            for task_id in evicted:
                worker.modules.pop(task_id, None)
            worker.modules[task.task_id] = None
            worker.modules.move_to_end(task.task_id)
            while len(worker.modules) > MAX_CACHED_MODULES:  # pragma: no cover - evictions say it first
                worker.modules.popitem(last=False)
            if compiled:
                self.counters["compiles"] += 1
                if result.reason.startswith("link error:"):
                    self.counters["linkFailures"] += 1
                    self._link_failures[task.task_id] = result.reason
                    while len(self._link_failures) > _LINK_FAILURES_KEPT:
                        self._link_failures.popitem(last=False)
        return result  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "size": self.size,
                "live": len(self._workers),
                "idle": len(self._idle),
                "busyPids": sorted(w.pid for w in self._busy),
                **{k: self.counters[k] for k in _COUNTERS},
            }

    def close(self) -> None:
        """Kill every worker (runs in progress end with :class:`WorkerStopped`); idempotent."""
        with self._cond:
            self.closed = True
            workers = list(self._workers)
            warmers, self._warmers = self._warmers, []
            idle = set(self._idle)
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.process.kill()
        for worker in workers:
            worker.kill()
            if worker in idle:
                with contextlib.suppress(OSError):
                    worker.conn.close()
        for thread in warmers:
            thread.join(START_SECONDS)
        with self._cond:
            self._workers.clear()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_COUNTERS = (
    "started",
    "compiles",
    "linkFailures",
    "linkFailuresReused",
    "timeLimitKills",
    "memoryKills",
    "crashes",
)


_SHARED: dict[int, WorkerPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(size: int | None = None) -> WorkerPool:
    """This process's pool of ``size`` workers (default: one per core), created on first use and
    closed at exit."""
    size = size if size is not None else (os.cpu_count() or 1)
    with _SHARED_LOCK:
        pool = _SHARED.get(size)
        if pool is None or pool.closed or pool.pid != os.getpid():  # after a fork: the child's own
            if not _SHARED:
                atexit.register(_close_shared)
            pool = _SHARED[size] = WorkerPool(size)
        return pool


def _close_shared() -> None:
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        if pool.pid == os.getpid():
            pool.close()


class PoolShare:
    """One dispatcher's use of a pool: :meth:`run` as the pool's, with this dispatcher's memory
    backstop; :meth:`close` abandons this dispatcher's runs (their workers are killed and replaced),
    refuses new ones and waits for the workers it asked for; it closes the pool too if it is
    ``owned``."""

    def __init__(self, pool: WorkerPool, *, owned: bool, memory_bytes: int | None = None) -> None:
        self.pool = pool
        self.owned = owned
        self.memory_bytes = memory_bytes
        self._stop = threading.Event()
        self._warming: threading.Thread | None = None

    def warm(self) -> None:
        """Have one worker ready before the first run (in the background)."""
        self._warming = self.pool.warm(1)

    def run(self, task: FunctionTask, input_text: str, *, gas_limit: int, limits: TaskLimits) -> RunResult:
        return self.pool.run(
            task,
            input_text,
            gas_limit=gas_limit,
            limits=limits,
            memory_bytes=self.memory_bytes,
            stop=self._stop,
        )

    def interrupt(self) -> None:
        """Abandon the runs in progress and refuse new ones."""
        self._stop.set()

    def close(self) -> None:
        self.interrupt()
        if self._warming is not None:
            self._warming.join(START_SECONDS)
        if self.owned:
            self.pool.close()
