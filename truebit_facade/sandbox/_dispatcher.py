"""The dispatcher: accepts executions, charges API keys, runs tasks in a bounded pool, records verdicts.

It lives on the server's event loop. Each accepted execution gets an unguessable id
(``secrets.token_hex(16)``, 32 hex characters), a ``Running`` row in the store and an asyncio task that
waits for a slot (at most ``max_concurrent_executions`` run WebAssembly at once; the rest queue in
arrival order), hands the module's run to a worker process (``_worker_pool``: the server's process
never runs WebAssembly or a host function) from a thread that waits for it, lets the simulated nodes
sign the one result, waits for the simulated arrival of the deciding solution, then stores the
response body and wakes the synchronous requests waiting for it.

API tasks take the same path without the thread pool: the call to the target is made on the loop with
the shared ``httpx.AsyncHTTPTransport`` (created by the first API execution, closed by
:meth:`Dispatcher.close`), within the same bound of concurrent executions; see ``_api_tasks`` for the
call and the answer. Both kinds go through one execution template (:meth:`Dispatcher._execute`, with
a :class:`~._jobs.Job` per kind saying what to run and how to answer).

**Stopping** (:meth:`Dispatcher.close`, which the server calls first when it is told to stop, before it
waits for connections): executions not finished end with Error in the store (waking held requests),
the worker processes running its tasks are killed (and the pool with them, unless it is shared), and
the waiting threads are waited for a bounded time (they notice within ``_worker_pool.POLL_SECONDS``).

Credit: one per accepted execution (a request refused with 400/401/402 costs nothing), kept in memory.

**Start counters** (for tests proving a client never runs a task twice): when an execution actually
starts (it got its slot), ``started_total`` and three counters go up: ``started_by_body`` keyed by the
canonical JSON of the request body (:func:`canonical_json`: sorted keys, no spaces, non-ASCII kept; an
API request with its ``input.headers`` values redacted), ``started_by_input`` keyed by the function
input text or the canonical JSON of the (redacted) API input, ``started_by_task`` keyed by
``namespace/name@version`` and ``started_by_label`` keyed by ``namespace/name:label`` (or
``namespace/name@version`` for requests without a label). Keys longer than 1024 characters become
``sha256:<hex>`` (:func:`counter_key`), and each counter keeps at most ``max_retained_results`` keys,
oldest first out, so the counters stay bounded. :meth:`Dispatcher.started_count` looks a body up; :meth:`Dispatcher.stats`
is what ``GET /_sandbox/stats`` answers. Executions refused (400/401/402) or stopped by an injected
fault before the dispatcher never count.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from .. import ApiTaskStatus, VerificationStatus
from .. import rules as _spec
from ._api_tasks import ApiTask, new_transport
from ._bounds import check_api_input, check_function_input
from ._config import SandboxConfig
from ._counters import MAX_COUNTER_KEY, canonical_json, counted_body, counter_key
from ._jobs import ApiJob, FunctionJob, Job, response_body
from ._manifest import PreparedCall
from ._nodes import NodePool
from ._registry import FunctionTask, Task, TaskRegistry
from ._store import ExecutionStore, answer_text
from ._validation import API_OPERATION, FUNCTION_OPERATION, ApiRequest, FunctionRequest, TaskRequest
from ._worker_pool import PoolShare, WorkerPool, shared_pool

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_COUNTER_KEY", "ApiError", "Dispatcher", "canonical_json", "counter_key", "response_body"]

logger = logging.getLogger("truebit_facade.sandbox")

#: How long :meth:`Dispatcher.close` waits for worker threads (interrupted runs end in milliseconds).
_CLOSE_WAIT_SECONDS = 5.0

_T = TypeVar("_T", FunctionTask, ApiTask)
#: A task of each kind: how an error message names it, and the operation that executes it.
_KINDS = {"function": ("a function task", FUNCTION_OPERATION), "api": ("an API task", API_OPERATION)}


class ApiError(Exception):
    """An error answer: HTTP status and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Dispatcher:
    """Executions of one sandbox: see the module docstring. Call :meth:`start` and :meth:`close` on the loop."""

    def __init__(
        self, config: SandboxConfig, registry: TaskRegistry, *, pool: WorkerPool | None = None
    ) -> None:
        self.config = config
        self.registry = registry
        self.store = ExecutionStore(
            config.db_path, max_retained=config.max_retained_results, max_bytes=config.max_stored_bytes
        )
        self.nodes = NodePool(config.node_seed, config.faulty_nodes)
        #: Where function tasks run: this dispatcher's share of ``pool``, by default the process's
        #: pool of ``config.workers`` workers (shared by its sandboxes; see ``_worker_pool``).
        self.runner = PoolShare(
            pool if pool is not None else shared_pool(config.workers),
            owned=False,
            memory_bytes=config.worker_memory_bytes,
        )
        self.credits: dict[str, int | None] = dict(config.api_keys)
        #: Executions that actually started, in total and by body, input and task (module docstring).
        self.started_total = 0
        self.started_by_body: collections.Counter[str] = collections.Counter()
        self.started_by_input: collections.Counter[str] = collections.Counter()
        self.started_by_task: collections.Counter[str] = collections.Counter()
        self.started_by_label: collections.Counter[str] = collections.Counter()
        #: The transport API tasks call their targets with (no cookies, no redirects, no environment);
        #: made by the first API execution (it costs tens of milliseconds), closed by close().
        self.http: httpx.AsyncHTTPTransport | None = None
        #: Executions running now, and waiting for a slot.
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
        self.runner.warm()
        self._pool = ThreadPoolExecutor(
            max_workers=self.config.max_concurrent_executions, thread_name_prefix="truebit-sandbox-run"
        )
        self._slots = asyncio.Semaphore(self.config.max_concurrent_executions)
        self._closing = False
        logger.debug(
            "dispatcher started: %d slots, store %s", self.config.max_concurrent_executions, self.store.path
        )

    async def close(self) -> None:
        """Stop: executions not finished end with Error (waking held requests); the workers running
        them are killed; waiting threads are waited for at most a few seconds. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._closing = True
        tasks = list(self._tasks)
        logger.debug("dispatcher stopping: %d executions not finished", len(tasks))
        self.runner.interrupt()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
            waited = asyncio.to_thread(pool.shutdown, wait=True)
            try:
                await asyncio.wait_for(waited, _CLOSE_WAIT_SECONDS)
            except TimeoutError:  # pragma: no cover - waiting threads notice the stop in 50 ms
                logger.error("worker threads still busy %g s after the stop", _CLOSE_WAIT_SECONDS)
        if self.http is not None:
            with contextlib.suppress(Exception):
                await self.http.aclose()
            self.http = None
        await asyncio.to_thread(self.runner.close)
        self.store.close()
        logger.debug("dispatcher stopped")

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

    def _resolve(self, request: TaskRequest, kind: type[_T]) -> _T:
        """The task of class ``kind`` a request names; 400 if there is none, or it is of the other kind
        (the message names the operation that executes it)."""
        from ._registry import TaskNotFound

        try:
            task = self.registry.resolve(
                request.namespace, request.task_name, version=request.version, label=request.label
            )
        except TaskNotFound as exc:
            raise ApiError(400, str(exc)) from None
        if not isinstance(task, kind):
            found, operation = _KINDS[task.kind]
            raise ApiError(
                400,
                f"{_name(task)} is {found}, not {_KINDS[kind.kind][0]}: execute it with POST "
                + _spec.operation(operation)[1],
            )
        return task

    def resolve(self, request: FunctionRequest) -> FunctionTask:
        """The function task a request names; 400 if there is none (or it is an API task), or if its
        input is larger than the bounds (``_bounds``)."""
        task = self._resolve(request, FunctionTask)
        scratch = task.limits(self.config.default_limits).scratch_bytes
        check_function_input(
            request.input, max_input_bytes=self.config.max_input_bytes, scratch_bytes=scratch
        )
        return task

    def resolve_api(self, request: ApiRequest) -> ApiTask:
        """The API task a request names; 400 if its input is over a bound (``_bounds``: checked first,
        before any other work), if there is no such task, or if it is a function task."""
        check_api_input(request.input, self.config.api_input_limits)
        return self._resolve(request, ApiTask)

    def submit(
        self, task: FunctionTask, request: FunctionRequest, raw_body: dict[str, Any]
    ) -> tuple[str, asyncio.Future[dict[str, Any]]]:
        """Accept an execution: its id and a future of its final response body."""
        job = FunctionJob(task, request, self.runner, self.nodes, self.config)
        return self._accept(job, raw_body)

    def submit_api(
        self, task: ApiTask, request: ApiRequest, call: PreparedCall, raw_body: dict[str, Any]
    ) -> tuple[str, asyncio.Future[dict[str, Any]]]:
        """Accept an API execution (``call`` already checked against the manifest): its id and a future
        of its final response body. The stored request has its ``input.headers`` values redacted."""
        if self._closing or self._slots is None:
            raise ApiError(500, "the sandbox is stopping")
        if self.http is None:
            self.http = new_transport()
        job = ApiJob(task, request, call, self.http, self.nodes.hub_address, self.config)
        return self._accept(job, counted_body(raw_body))

    def _accept(self, job: Job, stored_body: dict[str, Any]) -> tuple[str, asyncio.Future[dict[str, Any]]]:
        if self._closing or self._slots is None:
            raise ApiError(500, "the sandbox is stopping")
        execution_id = secrets.token_hex(16)
        self.store.create(execution_id, job.kind, stored_body)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[execution_id] = future
        runner = asyncio.create_task(self._execute(execution_id, job, stored_body, future))
        self._tasks.add(runner)
        runner.add_done_callback(self._tasks.discard)
        logger.debug("%s execution %s accepted (%s)", job.kind, execution_id, _name(job.task))
        return execution_id, future

    # -- counting ----------------------------------------------------------------------------------

    def _count_start(self, body: Mapping[str, Any], job: Job) -> None:
        """``body``: the request as stored (API headers redacted); the input and label are read from
        the validated request, by the generated model's names (a bump that renames them is a mypy
        error there), except an API input, counted as its redacted JSON (the redaction rule's names
        are pinned to the spec's by a test)."""
        self.started_total += 1
        task = job.task
        value: Any
        if isinstance(job, FunctionJob):
            value, label = job.request.input, job.request.label
        else:
            assert isinstance(job, ApiJob)
            value, label = body.get("input"), job.request.label
        where = f"{task.namespace}/{task.name}"
        for counter, key in (
            (self.started_by_body, counter_key(canonical_json(body))),
            (self.started_by_input, counter_key(value if isinstance(value, str) else canonical_json(value))),
            (self.started_by_task, f"{where}@{task.version}"),
            (
                self.started_by_label,
                f"{where}:{label}" if isinstance(label, str) else f"{where}@{task.version}",
            ),
        ):
            counter[key] += 1
            # Bounded like the retained results: the oldest keys go first (dicts keep insertion order).
            while len(counter) > self.config.max_retained_results:
                del counter[next(iter(counter))]

    def started_count(self, body: Mapping[str, Any]) -> int:
        """How many executions of exactly this request body started (API headers may be unredacted)."""
        return self.started_by_body[counter_key(canonical_json(counted_body(body)))]

    def reset_counters(self) -> None:
        """Set the start counters (and the peak of active executions) back to zero."""
        self.started_total = 0
        self.started_by_body.clear()
        self.started_by_input.clear()
        self.started_by_task.clear()
        self.started_by_label.clear()
        self.peak_active = self.active

    def stats(self) -> dict[str, Any]:
        """The counters as ``GET /_sandbox/stats`` reports them (without the fault counts), and the
        store's bytes and evictions (``storedBytes``, ``maxStoredBytes``, ``evictedTotal``)."""
        return {
            "startedTotal": self.started_total,
            "startedByBody": dict(self.started_by_body),
            "startedByInput": dict(self.started_by_input),
            "startedByTask": dict(self.started_by_task),
            "startedByLabel": dict(self.started_by_label),
            "active": self.active,
            "queued": self.queued,
            "peakActive": self.peak_active,
            "executions": self.store.counts(),
            "workers": self.runner.pool.stats(),
            **self.store.usage(),
        }

    # -- running: one template for both kinds --------------------------------------------------------

    async def _execute(
        self, execution_id: str, job: Job, counted: dict[str, Any], future: asyncio.Future[dict[str, Any]]
    ) -> None:
        """Wait for a slot, count the start, let ``job`` run, then store the final body and wake the
        requests waiting for it. Stopped (cancelled) or failed by a fault of the sandbox itself, the
        execution ends with Error; either way the store gets a final body."""
        body: dict[str, Any]
        try:
            async with self._slot():
                self._count_start(counted, job)
                began = time.monotonic()
                body, decided_after = await job.run(execution_id, self._pool)
            delay = decided_after - (time.monotonic() - began)
            if delay > 0:
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            body = job.stopped(execution_id)
        except Exception as exc:  # a sandbox fault, not the task's
            logger.debug("%s execution %s: sandbox fault %s", job.kind, execution_id, type(exc).__name__)
            body = job.fault(execution_id, exc)
        logger.info("%s execution %s (%s): %s", job.kind, execution_id, _name(job.task), job.summary(body))
        with contextlib.suppress(Exception):  # the store is closed when the sandbox stops
            self.store.finish(execution_id, job.status_of(body), body)
        self._pending.pop(execution_id, None)
        if not future.done():
            future.set_result(body)

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """Wait for one of the ``max_concurrent_executions`` slots (counted in ``queued``), hold it."""
        assert self._slots is not None
        self.queued += 1
        try:
            await self._slots.acquire()
        finally:
            self.queued -= 1
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            yield
        finally:
            self.active -= 1
            self._slots.release()

    # -- answering ---------------------------------------------------------------------------------

    async def wait(self, future: asyncio.Future[dict[str, Any]], timeout: float) -> dict[str, Any] | None:
        """The final body if it comes within ``timeout`` seconds, else ``None``."""
        if not future.done():
            await asyncio.wait({future}, timeout=timeout)
        return future.result() if future.done() else None

    def status_answer(self, execution_id: str, kind: str = "function") -> bytes | None:
        """What the status endpoint sends, encoded, or ``None`` (404) for an unknown id: a finished
        execution's answer as it is stored (never parsed or rendered again on the loop)."""
        found = self.store.answer(execution_id, kind)
        if found is None:
            return None
        _, data = found
        if data is None:
            return answer_text(_running(execution_id, kind)).encode("utf-8")
        return data


def _running(execution_id: str, kind: str) -> dict[str, Any]:
    """The answer about an execution that has not ended."""
    if kind == "api":
        return {"executionId": execution_id, "status": ApiTaskStatus.RUNNING}
    return {"executionId": execution_id, "verificationStatus": VerificationStatus.RUNNING}


def _name(task: Task) -> str:
    return f"{task.namespace}/{task.name} v{task.version}"
