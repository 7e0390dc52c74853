"""The dispatcher: accepts executions, charges API keys, runs tasks in a bounded pool, records verdicts.

It lives on the server's event loop. Each accepted execution gets an unguessable id
(``secrets.token_hex(16)``, 32 hex characters), a ``Running`` row in the store and an asyncio task that
waits for a slot (at most ``max_concurrent_executions`` run WebAssembly at once; the rest queue in
arrival order), runs the module and the simulated nodes in a worker thread, waits for the simulated
arrival of the deciding solution, then stores the response body and wakes the synchronous requests
waiting for it.

Credit: one per accepted execution (a request refused with 400/401/402 costs nothing), kept in memory.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._config import SandboxConfig
from ._nodes import NodePool, Verdict, error_verdict, reach_consensus
from ._registry import FunctionTask, TaskRegistry
from ._store import ExecutionStore
from ._validation import FunctionRequest
from ._wasm import RunResult, WasmRunner

__all__ = ["ApiError", "Dispatcher", "response_body"]


class ApiError(Exception):
    """An error answer: HTTP status and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def response_body(execution_id: str, verdict: Verdict) -> dict[str, Any]:
    """The spec's ``ExecuteTaskSyncResponse`` for a finished execution."""
    body: dict[str, Any] = {"executionId": execution_id}
    if verdict.solution is not None:
        body["clearTextSolution"] = verdict.solution.to_json()
    body["verificationStatus"] = verdict.verification_status
    return body


class Dispatcher:
    """Executions of one sandbox: see the module docstring. Call :meth:`start` and :meth:`close` on the loop."""

    def __init__(self, config: SandboxConfig, registry: TaskRegistry) -> None:
        self.config = config
        self.registry = registry
        self.store = ExecutionStore(config.db_path, max_retained=config.max_retained_results)
        self.nodes = NodePool(config.node_seed, config.faulty_nodes)
        self.runner = WasmRunner()
        self.credits: dict[str, int | None] = dict(config.api_keys)
        #: Executions whose WebAssembly actually started, in total and by canonical request body.
        self.started_total = 0
        self.started_by_body: collections.Counter[str] = collections.Counter()
        #: Executions running WebAssembly now, and waiting for a slot.
        self.active = 0
        self.queued = 0
        self.peak_active = 0
        self._pool: ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._closed = False
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.runner.start()
        self._pool = ThreadPoolExecutor(
            max_workers=self.config.max_concurrent_executions, thread_name_prefix="truebit-sandbox-run"
        )
        self._slots = asyncio.Semaphore(self.config.max_concurrent_executions)
        self._closing = False

    async def close(self) -> None:
        """Stop: executions not finished end with Error (waking held requests); running WebAssembly is
        interrupted. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        self.runner.interrupt()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.runner.close()
        self.store.close()

    # -- accepting ---------------------------------------------------------------------------------

    def authenticate(self, api_key: str | None) -> str:
        """The key if it is known; 401 otherwise."""
        if not api_key:
            raise ApiError(401, "missing API key: send it in the x-api-key header")
        if api_key not in self.credits:
            raise ApiError(401, "unknown API key")
        return api_key

    def charge(self, api_key: str) -> None:
        """Take one credit from the key, or 402 if it has none left."""
        credit = self.credits[api_key]
        if credit is None:
            return
        if credit <= 0:
            raise ApiError(402, "payment required: this API key is out of credit")
        self.credits[api_key] = credit - 1

    def resolve(self, request: FunctionRequest) -> FunctionTask:
        from ._registry import TaskNotFound

        try:
            return self.registry.resolve(
                request.namespace, request.task_name, version=request.version, label=request.label
            )
        except TaskNotFound as exc:
            raise ApiError(400, str(exc)) from None

    def submit(
        self, task: FunctionTask, request: FunctionRequest, raw_body: dict[str, Any]
    ) -> tuple[str, asyncio.Future[dict[str, Any]]]:
        """Accept an execution: its id and a future of its final response body."""
        if self._closing or self._slots is None:
            raise ApiError(500, "the sandbox is stopping")
        execution_id = secrets.token_hex(16)
        self.store.create(execution_id, "function", raw_body)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[execution_id] = future
        job = asyncio.create_task(self._execute(execution_id, task, request, raw_body, future))
        self._tasks.add(job)
        job.add_done_callback(self._tasks.discard)
        return execution_id, future

    # -- running -----------------------------------------------------------------------------------

    async def _execute(
        self,
        execution_id: str,
        task: FunctionTask,
        request: FunctionRequest,
        raw_body: dict[str, Any],
        future: asyncio.Future[dict[str, Any]],
    ) -> None:
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        verdict: Verdict
        try:
            self.queued += 1
            try:
                await self._slots.acquire()
            finally:
                self.queued -= 1
            try:
                self.active += 1
                self.peak_active = max(self.peak_active, self.active)
                self.started_total += 1
                self.started_by_body[json.dumps(raw_body, sort_keys=True)] += 1
                began = time.monotonic()
                verdict = await loop.run_in_executor(self._pool, self._solve, execution_id, task, request)
            finally:
                self.active -= 1
                self._slots.release()
            delay = verdict.decided_after - (time.monotonic() - began)
            if delay > 0:
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            verdict = Verdict("Error", None, 0.0)
        except Exception as exc:  # a sandbox fault, not the task's: verification Error
            verdict = error_verdict(self.nodes, execution_id, f"sandbox error: {type(exc).__name__}: {exc}")
        body = response_body(execution_id, verdict)
        with contextlib.suppress(Exception):  # the store is closed when the sandbox stops
            self.store.finish(execution_id, verdict.verification_status, body)
        self._pending.pop(execution_id, None)
        if not future.done():
            future.set_result(body)

    def _solve(self, execution_id: str, task: FunctionTask, request: FunctionRequest) -> Verdict:
        """In a worker thread: run the module once and let the nodes sign and agree (or not)."""
        limits = task.limits(self.config.default_limits)
        gas = limits.gas_limit if request.gas_limit is None else request.gas_limit
        result: RunResult = self.runner.run(task, request.input, gas_limit=gas, limits=limits)
        return reach_consensus(
            self.nodes,
            execution_id,
            result,
            total=request.total_solutions,
            required=request.required_solutions,
            timeout=self.config.verification_timeout_seconds,
        )

    # -- answering ---------------------------------------------------------------------------------

    async def wait(self, future: asyncio.Future[dict[str, Any]], timeout: float) -> dict[str, Any] | None:
        """The final body if it comes within ``timeout`` seconds, else ``None``."""
        if not future.done():
            await asyncio.wait({future}, timeout=timeout)
        return future.result() if future.done() else None

    def status(self, execution_id: str, kind: str = "function") -> dict[str, Any] | None:
        """What the status endpoint answers, or ``None`` (404) for an unknown id."""
        found = self.store.get(execution_id, kind)
        if found is None:
            return None
        _, body = found
        if body is None:
            return {"executionId": execution_id, "verificationStatus": "Running"}
        return body
