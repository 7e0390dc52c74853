"""The dispatcher: accepts executions, charges API keys, runs tasks in a bounded pool, records verdicts.

It lives on the server's event loop. Each accepted execution gets an unguessable id
(``secrets.token_hex(16)``, 32 hex characters), a ``Running`` row in the store and an asyncio task that
waits for a slot (at most ``max_concurrent_executions`` run WebAssembly at once; the rest queue in
arrival order), runs the module and the simulated nodes in a worker thread, waits for the simulated
arrival of the deciding solution, then stores the response body and wakes the synchronous requests
waiting for it.

API tasks take the same path without the thread pool: the call to the target is made on the loop with
the shared ``httpx.AsyncClient`` (created by :meth:`Dispatcher.start`, closed by :meth:`Dispatcher.close`),
within the same bound of concurrent executions; see ``_api_tasks`` for the call and the answer.

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
import hashlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .._status import VerificationStatus
from ._api_tasks import ApiOutcome, ApiTask, api_response_body, call_target, redact_request
from ._config import SandboxConfig
from ._manifest import PreparedCall
from ._nodes import NodePool, Verdict, error_verdict, reach_consensus
from ._registry import FunctionTask, Task, TaskRegistry
from ._store import ExecutionStore
from ._validation import ApiRequest, FunctionRequest
from ._wasm import RunResult, WasmRunner

if TYPE_CHECKING:
    import httpx

__all__ = ["ApiError", "Dispatcher", "canonical_json", "response_body"]

logger = logging.getLogger("truebit_facade.sandbox")


#: Counter keys longer than this are replaced by their SHA-256, so counters stay small.
MAX_COUNTER_KEY = 1024


def counter_key(text: str) -> str:
    """The key a start counter uses for ``text``: itself, or ``sha256:<hex>`` when longer than
    :data:`MAX_COUNTER_KEY` characters."""
    if len(text) <= MAX_COUNTER_KEY:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def canonical_json(value: Any) -> str:
    """The key of the start counters: JSON with sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _counted_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body as the counters see it: an API request's ``input.headers`` values redacted."""
    return redact_request(body) if isinstance(body.get("input"), dict) else dict(body)


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
        #: Executions that actually started, in total and by body, input and task (module docstring).
        self.started_total = 0
        self.started_by_body: collections.Counter[str] = collections.Counter()
        self.started_by_input: collections.Counter[str] = collections.Counter()
        self.started_by_task: collections.Counter[str] = collections.Counter()
        self.started_by_label: collections.Counter[str] = collections.Counter()
        #: The client API tasks call their targets with; exists between start() and close().
        self.http: httpx.AsyncClient | None = None
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
        self.http = _target_client()

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
        if self.http is not None:
            with contextlib.suppress(Exception):
                await self.http.aclose()
            self.http = None
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

    def _resolve(self, request: FunctionRequest | ApiRequest) -> Task:
        from ._registry import TaskNotFound

        try:
            return self.registry.resolve(
                request.namespace, request.task_name, version=request.version, label=request.label
            )
        except TaskNotFound as exc:
            raise ApiError(400, str(exc)) from None

    def resolve(self, request: FunctionRequest) -> FunctionTask:
        """The function task a request names; 400 if there is none (or it is an API task)."""
        task = self._resolve(request)
        if not isinstance(task, FunctionTask):
            raise ApiError(
                400,
                f"{_name(task)} is an API task, not a function task: execute it with POST /task/api/execute-by-name",
            )
        return task

    def resolve_api(self, request: ApiRequest) -> ApiTask:
        """The API task a request names; 400 if there is none (or it is a function task)."""
        task = self._resolve(request)
        if not isinstance(task, ApiTask):
            raise ApiError(
                400,
                f"{_name(task)} is a function task, not an API task: execute it with POST "
                "/task/function/execute-by-name",
            )
        return task

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

    def submit_api(
        self, task: ApiTask, request: ApiRequest, call: PreparedCall, raw_body: dict[str, Any]
    ) -> tuple[str, asyncio.Future[dict[str, Any]]]:
        """Accept an API execution (``call`` already checked against the manifest): its id and a future
        of its final response body. The stored request has its ``input.headers`` values redacted."""
        if self._closing or self._slots is None or self.http is None:
            raise ApiError(500, "the sandbox is stopping")
        execution_id = secrets.token_hex(16)
        counted = redact_request(raw_body)
        self.store.create(execution_id, "api", counted)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[execution_id] = future
        job = asyncio.create_task(self._execute_api(execution_id, task, request, call, counted, future))
        self._tasks.add(job)
        job.add_done_callback(self._tasks.discard)
        return execution_id, future

    # -- counting ----------------------------------------------------------------------------------

    def _count_start(self, body: Mapping[str, Any], task: Task) -> None:
        self.started_total += 1
        value = body.get("input")
        label = body.get("label")
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
        return self.started_by_body[counter_key(canonical_json(_counted_body(body)))]

    def reset_counters(self) -> None:
        """Set the start counters (and the peak of active executions) back to zero."""
        self.started_total = 0
        self.started_by_body.clear()
        self.started_by_input.clear()
        self.started_by_task.clear()
        self.started_by_label.clear()
        self.peak_active = self.active

    def stats(self) -> dict[str, Any]:
        """The counters as ``GET /_sandbox/stats`` reports them (without the fault counts)."""
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
        }

    # -- running -----------------------------------------------------------------------------------

    async def _execute(
        self,
        execution_id: str,
        task: FunctionTask,
        request: FunctionRequest,
        raw_body: dict[str, Any],
        future: asyncio.Future[dict[str, Any]],
    ) -> None:
        loop = asyncio.get_running_loop()
        verdict: Verdict
        try:
            async with self._slot():
                self._count_start(raw_body, task)
                began = time.monotonic()
                verdict = await loop.run_in_executor(self._pool, self._solve, execution_id, task, request)
            delay = verdict.decided_after - (time.monotonic() - began)
            if delay > 0:
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            verdict = Verdict(VerificationStatus.ERROR, None, 0.0)
        except Exception as exc:  # a sandbox fault, not the task's: verification Error
            verdict = error_verdict(self.nodes, execution_id, f"sandbox error: {type(exc).__name__}: {exc}")
        body = response_body(execution_id, verdict)
        with contextlib.suppress(Exception):  # the store is closed when the sandbox stops
            self.store.finish(execution_id, verdict.verification_status, body)
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

    async def _execute_api(
        self,
        execution_id: str,
        task: ApiTask,
        request: ApiRequest,
        call: PreparedCall,
        counted_body: dict[str, Any],
        future: asyncio.Future[dict[str, Any]],
    ) -> None:
        outcome: ApiOutcome | None = None
        body: dict[str, Any]
        try:
            async with self._slot():
                self._count_start(counted_body, task)
                assert self.http is not None
                timeout = min(request.execution_timeout_ms / 1000, self.config.max_execution_timeout_seconds)
                outcome = await call_target(
                    self.http,
                    task,
                    call,
                    timeout_seconds=timeout,
                    max_response_bytes=self.config.max_api_response_bytes,
                )
            body = api_response_body(execution_id, outcome, self.nodes.hub_address)
        except asyncio.CancelledError:
            body = {
                "executionId": execution_id,
                "status": "Error",
                "errorMsg": "the sandbox stopped before the call ended",
            }
        except Exception as exc:  # a sandbox fault; the message names only the exception type (no secrets)
            body = {
                "executionId": execution_id,
                "status": "Error",
                "errorMsg": f"sandbox error: {type(exc).__name__}",
            }
        result = "not made" if outcome is None else (outcome.status_code or "no answer")
        logger.info(
            "api execution %s (%s): %s %s -> %s, %s",
            execution_id,
            _name(task),
            call.method,
            call.template,
            result,
            body["status"],
        )
        with contextlib.suppress(Exception):  # the store is closed when the sandbox stops
            self.store.finish(execution_id, body["status"], body)
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
            if kind == "api":
                return {"executionId": execution_id, "status": "Running"}
            return {"executionId": execution_id, "verificationStatus": "Running"}
        return body


def _name(task: Task) -> str:
    return f"{task.namespace}/{task.name} v{task.version}"


def _target_client() -> httpx.AsyncClient:
    """The shared client of API calls: no redirects, no proxies or .netrc from the environment, no
    cookie ever stored (every domain refused), a bounded pool."""
    import http.cookiejar

    import httpx

    jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,
        cookies=jar,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
    )
