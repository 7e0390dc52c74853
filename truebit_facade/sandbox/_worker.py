"""One worker process of the pool (``_worker_pool``): its start, the parent's end of its socket,
its death, and the watch the parent keeps on it while it runs a task (the wall clock, its memory,
its dispatcher's stop signal), which ends the run from outside when the task does not end itself.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ._wasm import RunResult
from ._worker_process import BOOTSTRAP

if TYPE_CHECKING:
    from ._config import TaskLimits
    from ._registry import FunctionTask

__all__ = ["POLL_SECONDS", "START_SECONDS", "Ended", "Watch", "Worker", "WorkerCrashed", "WorkerStopped"]

#: How often a waiting run checks the worker's memory, its stop signal and its deadline.
POLL_SECONDS = 0.05
#: How long a new worker may take to say it is ready.
START_SECONDS = 60.0
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class WorkerStopped(Exception):
    """The run was abandoned because its dispatcher (or the pool) is stopping."""


class WorkerCrashed(Exception):
    """The worker process running the task died (a signal, the OOM killer, a fault of its own)."""


def _time_limit(limits: TaskLimits) -> RunResult:
    reason = f"time limit: still running after {limits.wall_clock_seconds:g} s"
    return RunResult(output=reason, execution_status="failed", gas_used=0, reason=reason)


class Ended(Exception):
    """The pool ended the run from outside (time or memory): the result to report."""

    def __init__(self, result: RunResult, counter: str) -> None:
        super().__init__(result.reason)
        self.result = result
        self.counter = counter


@dataclass(frozen=True)
class Watch:
    """What the pool watches while a run goes (see the module docstring): the deadline (its wall clock
    and the grace), its limits (for the reason), the memory backstop, its dispatcher's stop signal and
    whether the pool is closed."""

    deadline: float
    limits: TaskLimits
    memory: int
    stop: threading.Event | None
    pool_closed: Callable[[], bool]

    @property
    def stopping(self) -> bool:
        return self.pool_closed() or (self.stop is not None and self.stop.is_set())


class Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", BOOTSTRAP, str(child.fileno()), _PACKAGE_DIR],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self.pid = self.process.pid
        self.conn = Connection(parent.detach())
        #: Task ids this worker has cached (it reports compiles and evictions, so this stays exact).
        self.modules: collections.OrderedDict[str, None] = collections.OrderedDict()
        if not self.conn.poll(START_SECONDS):
            self.close()
            raise WorkerCrashed(f"a worker process did not start within {START_SECONDS:g} s")
        try:
            self.conn.recv()
        except (EOFError, OSError):
            self.close()
            raise WorkerCrashed(f"a worker process died while starting ({self._death()})") from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def rss(self) -> int | None:
        """Resident memory in bytes (``None`` where ``/proc`` is not available)."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            return None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)

    def close(self) -> None:
        self.kill()
        with contextlib.suppress(OSError):
            self.conn.close()

    def _death(self) -> str:
        try:
            code = self.process.wait(2)
        except subprocess.TimeoutExpired:
            return "still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                name = signal.Signals(-code).name
                hint = " (out of memory, or killed from outside)" if -code == signal.SIGKILL else ""
                return f"killed by {name}{hint}"
            return f"killed by signal {-code}"
        return f"exit code {code}"

    def execute(self, task: FunctionTask, message: tuple[Any, ...], watch: Watch) -> tuple[Any, ...]:
        """Send the run and wait for its answer, ending it from outside if it must (see the module
        docstring). Raises :class:`Ended`, :class:`WorkerStopped` or :class:`WorkerCrashed`."""
        known = task.task_id in self.modules
        self._send((task.task_id, b"" if known else task.wasm, *message))
        while True:
            reply = self._wait(watch)
            if reply[0] != "need":
                return reply
            self._send((task.task_id, task.wasm, *message))

    def _send(self, message: tuple[Any, ...]) -> None:
        try:
            self.conn.send(message)
        except (BrokenPipeError, OSError) as exc:
            raise WorkerCrashed(f"the worker process running the task died ({self._death()})") from exc

    def _wait(self, watch: Watch) -> tuple[Any, ...]:
        while True:
            left = watch.deadline - time.monotonic()
            if self.conn.poll(min(POLL_SECONDS, max(left, 0.0))):
                try:
                    reply: tuple[Any, ...] = self.conn.recv()
                    return reply
                except (EOFError, OSError):
                    if watch.stopping:
                        raise WorkerStopped("the sandbox stopped before the run ended") from None
                    raise WorkerCrashed(
                        f"the worker process running the task died ({self._death()})"
                    ) from None
            if watch.stopping:
                raise WorkerStopped("the sandbox stopped before the run ended")
            if time.monotonic() >= watch.deadline:
                raise Ended(_time_limit(watch.limits), "timeLimitKills")
            rss = self.rss()
            if rss is not None and rss > watch.memory:
                reason = (
                    f"memory limit: the worker running the task reached {rss >> 20} MiB "
                    f"(backstop {watch.memory >> 20} MiB)"
                )
                raise Ended(RunResult(reason, "failed", 0, reason), "memoryKills")
