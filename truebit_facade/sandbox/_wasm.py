"""Running a function task: a WASI preview-1 module under wasmtime with gas, memory, time and file limits.

The platform's contract: the request's ``input`` is ``input.txt`` in the task's directory, the module's
``_start`` runs with that directory preopened (as ``.`` on fd 3 and as ``/`` on fd 4, so both relative
and absolute paths work), and ``output.txt`` is read back as the output. The directory and its files
live in memory, behind WASI file functions the sandbox implements (see ``_task_files`` for why, and for
the write quota and output bound they enforce during the run); nothing a task does reaches the host's
filesystem. Gas is wasmtime fuel (about one unit per WebAssembly instruction, checked at function
entries and loop headers, so a run may finish a few straight-line steps past its budget but never
loops or calls past it); memory is capped with a store limit; wall-clock time with an epoch deadline
advanced by a ticker thread, and by the file functions for the host-side work they do. Each module is
compiled once per runner and cached.

A run fails (``executionStatus`` ``failed``) when it runs out of gas, exceeds the time, memory, output
or write limit, traps, exits with a non-zero code, or leaves an empty ``output.txt``; the output of a
failed run is then a one-line reason (with the last line of the module's stderr, if any), the same for
every node.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._config import TaskLimits
from ._engine import apply_limits, limit_reason, new_engine
from ._task_files import TaskFiles
from ._wasi_linker import define_task_files

if TYPE_CHECKING:  # the registry validates modules with this runner's engine (_modules): no circle
    from ._registry import FunctionTask

__all__ = ["MAX_GAS", "RunResult", "WasmRunner", "new_engine"]

#: Fuel is a u64 in wasmtime; larger gas limits are clamped to it.
MAX_GAS = (1 << 64) - 1


@dataclass(frozen=True)
class RunResult:
    """What one run of a task produced: the solution's output and status, and the gas it used."""

    output: str
    execution_status: Literal["succeed", "failed"]
    gas_used: int
    reason: str = ""

    @property
    def succeeded(self) -> bool:
        return self.execution_status == "succeed"


def _release_all() -> None:
    """Free wasmtime objects while the interpreter is still whole: left to the garbage collector at
    shutdown, their finalizers run after wasmtime's module globals are gone and print errors."""
    for runner in list(_LIVE_RUNNERS):
        runner.release()


class WasmRunner:
    """Runs function tasks; thread-safe, meant to be called from a bounded thread pool.

    Use as a context manager (or :meth:`start` / :meth:`close`): the wall-clock limit needs the ticker
    thread, and :meth:`close` interrupts runs still going.
    """

    def __init__(self, tick_seconds: float = 0.01) -> None:
        self._tick = tick_seconds
        self._engine: Any = new_engine()
        self._linker: Any = None
        self._cache: dict[FunctionTask, Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._current = threading.local()  # .files: the TaskFiles of the run on this thread
        self._max_ticks = 1
        self._closed = False
        _LIVE_RUNNERS.add(self)

    def start(self) -> WasmRunner:
        """Start the epoch ticker (idempotent)."""
        with self._lock:
            if self._ticker is None:
                self._closed = False
                self._stop.clear()
                self._ticker = threading.Thread(
                    target=self._tick_loop, name="truebit-sandbox-epoch", daemon=True
                )
                self._ticker.start()
        return self

    def interrupt(self) -> None:
        """Refuse new runs and make the runs in progress fail at once with the time limit."""
        self._closed = True
        for _ in range(self._max_ticks + 1):
            self._engine.increment_epoch()

    def close(self) -> None:
        """Interrupt runs in progress and stop the ticker."""
        self.interrupt()
        with self._lock:
            ticker, self._ticker = self._ticker, None
        if ticker is not None:
            self._stop.set()
            ticker.join()

    def release(self) -> None:
        """Close and free the engine, linker and compiled modules (the runner is unusable after)."""
        self.close()
        with self._lock:
            cached, self._cache = list(self._cache.values()), {}
            linker, self._linker = self._linker, None
        for obj in (*cached, linker, self._engine):
            close = getattr(obj, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    def __enter__(self) -> WasmRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self._tick):
            # Interrupted, keep interrupting: a run that started just after interrupt() ends too.
            for _ in range(self._max_ticks + 1 if self._closed else 1):
                self._engine.increment_epoch()

    def compiled(self, task: FunctionTask) -> Any:
        """The task's module compiled and linked against WASI (an ``InstancePre``), cached per task."""
        from wasmtime import Linker, Module

        with self._lock:
            pre = self._cache.get(task)
            if pre is None:
                if self._linker is None:
                    self._linker = Linker(self._engine)
                    self._linker.define_wasi()
                    define_task_files(self._linker, self._current)
                pre = self._linker.instantiate_pre(Module(self._engine, task.wasm))
                self._cache[task] = pre
            return pre

    def run(self, task: FunctionTask, input_text: str, *, gas_limit: int, limits: TaskLimits) -> RunResult:
        """Run ``task`` on ``input_text`` with ``gas_limit`` fuel and ``limits``; never raises for task faults."""
        from wasmtime import ExitTrap, Store, Trap, TrapCode, WasiConfig, WasmtimeError

        if self._ticker is None or self._closed:
            raise RuntimeError("the runner is not started")
        pre = self.compiled(task)
        gas = min(max(gas_limit, 0), MAX_GAS)
        ticks = max(1, math.ceil(limits.wall_clock_seconds / self._tick))
        self._max_ticks = max(self._max_ticks, ticks)
        files = TaskFiles(
            input_text.encode("utf-8"),
            quota=limits.scratch_bytes,
            output_limit=limits.output_bytes,
            deadline=time.monotonic() + limits.wall_clock_seconds,
            wall_clock=limits.wall_clock_seconds,
        )
        wasi = WasiConfig()  # arguments, clocks and randomness; no preopen, no host stdio
        wasi.argv = ["task.wasm"]
        store = Store(self._engine)
        store.set_wasi(wasi)
        store.set_fuel(gas)
        apply_limits(store, limits)
        store.set_epoch_deadline(ticks)
        reason = ""
        self._current.files = files
        try:
            instance = pre.instantiate(store)
            instance.exports(store)["_start"](store)
        except ExitTrap as exc:
            if exc.code != 0:
                reason = f"exited with code {exc.code}"
        except Trap as exc:
            code = exc.trap_code
            if code == TrapCode.OUT_OF_FUEL:
                reason = f"out of gas: the gas limit of {gas} steps was exhausted"
            elif code == TrapCode.INTERRUPT:
                reason = f"time limit: still running after {limits.wall_clock_seconds:g} s"
            else:
                reason = "trap: " + _last_line(exc.message).removeprefix("wasm trap: ")
        except WasmtimeError as exc:
            message = _last_line(str(exc))
            reason = limit_reason(message) or f"error: {message}"
        finally:
            self._current.files = None
        fuel = store.get_fuel() if files.fuel_left is None else files.fuel_left
        gas_used = gas - fuel
        if files.failure is not None:  # a bound the file functions enforced ended the run
            reason = files.failure
        if not reason:
            output, reason = files.output_text()
            if not reason:
                return RunResult(output=output, execution_status="succeed", gas_used=gas_used)
        last = _last_line(files.stderr.decode("utf-8", errors="backslashreplace"))
        if last:
            reason = f"{reason}: {last}"
        return RunResult(output=reason, execution_status="failed", gas_used=gas_used, reason=reason)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


_LIVE_RUNNERS: weakref.WeakSet[WasmRunner] = weakref.WeakSet()
atexit.register(_release_all)
