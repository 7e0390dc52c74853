"""What the dispatcher's one execution template runs, per kind of task: a :class:`Job`.

A job knows how to run its execution (:meth:`Job.run`, returning the final response body and when the
verdict is due), how to answer when the sandbox stops before it ends (:meth:`Job.stopped`) or fails
itself (:meth:`Job.fault`), and how its body reads in the store and the log. The template
(``Dispatcher._execute``) does the rest, the same for both kinds: the slot, the start counters, the
store, waking the held requests.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .. import ApiTaskStatus, VerificationStatus
from ._api_tasks import ApiOutcome, ApiTask, api_response_body, call_target
from ._config import SandboxConfig, TaskLimits
from ._manifest import PreparedCall
from ._nodes import NodePool, Verdict, error_verdict, reach_consensus
from ._registry import FunctionTask
from ._validation import ApiRequest, FunctionRequest
from ._wasm import RunResult

if TYPE_CHECKING:
    import httpx

__all__ = ["ApiJob", "FunctionJob", "Job", "response_body"]


def response_body(execution_id: str, verdict: Verdict) -> dict[str, Any]:
    """The spec's ``ExecuteTaskSyncResponse`` for a finished execution."""
    body: dict[str, Any] = {"executionId": execution_id}
    if verdict.solution is not None:
        body["clearTextSolution"] = verdict.solution.to_json()
    body["verificationStatus"] = verdict.verification_status
    return body


class Job:
    """One execution's work; see the module docstring."""

    kind: str
    task: FunctionTask | ApiTask

    async def run(self, execution_id: str, pool: Executor | None) -> tuple[dict[str, Any], float]:
        raise NotImplementedError

    def stopped(self, execution_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def fault(self, execution_id: str, exc: Exception) -> dict[str, Any]:
        raise NotImplementedError

    def status_of(self, body: dict[str, Any]) -> str:
        raise NotImplementedError

    def summary(self, body: dict[str, Any]) -> str:
        return self.status_of(body)


@dataclass(eq=False)
class FunctionJob(Job):
    """A function task: one run of the module in a worker process (waited for in a thread), shared by
    the honest nodes, then the nodes' consensus."""

    kind = "function"

    task: FunctionTask
    request: FunctionRequest
    runner: _Runner
    nodes: NodePool
    config: SandboxConfig

    async def run(self, execution_id: str, pool: Executor | None) -> tuple[dict[str, Any], float]:
        loop = asyncio.get_running_loop()
        verdict = await loop.run_in_executor(pool, self._solve, execution_id)
        return response_body(execution_id, verdict), verdict.decided_after

    def _solve(self, execution_id: str) -> Verdict:
        """In a thread: run the module once (in a worker process) and let the nodes sign and agree."""
        assert isinstance(self.task, FunctionTask)
        limits = self.task.limits(self.config.default_limits)
        gas = limits.gas_limit if self.request.gas_limit is None else self.request.gas_limit
        result = self.runner.run(self.task, self.request.input, gas_limit=gas, limits=limits)
        return reach_consensus(
            self.nodes,
            execution_id,
            result,
            total=self.request.total_solutions,
            required=self.request.required_solutions,
            timeout=self.config.verification_timeout_seconds,
        )

    def stopped(self, execution_id: str) -> dict[str, Any]:
        return response_body(execution_id, Verdict(VerificationStatus.ERROR, None, 0.0))

    def fault(self, execution_id: str, exc: Exception) -> dict[str, Any]:
        message = f"sandbox error: {type(exc).__name__}: {exc}"
        return response_body(execution_id, error_verdict(self.nodes, execution_id, message))

    def status_of(self, body: dict[str, Any]) -> str:
        return str(body["verificationStatus"])

    def summary(self, body: dict[str, Any]) -> str:
        solution = body.get("clearTextSolution") or {}
        return f"{body['verificationStatus']}, {solution.get('executionStatus', 'no solution')}"


class _Runner(Protocol):
    """What runs a function task (the dispatcher's ``PoolShare``)."""

    def run(
        self, task: FunctionTask, input_text: str, *, gas_limit: int, limits: TaskLimits
    ) -> RunResult: ...


@dataclass(eq=False)
class ApiJob(Job):
    """An API task: one call to the target on the loop, answered by the hub."""

    kind = "api"

    task: ApiTask
    request: ApiRequest
    call: PreparedCall
    transport: httpx.AsyncHTTPTransport
    hub_address: str
    config: SandboxConfig
    outcome: ApiOutcome | None = field(default=None, init=False)

    async def run(self, execution_id: str, pool: Executor | None) -> tuple[dict[str, Any], float]:
        assert isinstance(self.task, ApiTask)
        timeout = min(self.request.execution_timeout_ms / 1000, self.config.max_execution_timeout_seconds)
        self.outcome = await call_target(
            self.transport,
            self.task,
            self.call,
            timeout_seconds=timeout,
            max_response_bytes=self.config.max_api_response_bytes,
        )
        return api_response_body(execution_id, self.outcome, self.hub_address), 0.0

    def stopped(self, execution_id: str) -> dict[str, Any]:
        message = "the sandbox stopped before the call ended"
        return {"executionId": execution_id, "status": ApiTaskStatus.ERROR, "errorMsg": message}

    def fault(self, execution_id: str, exc: Exception) -> dict[str, Any]:
        # The message names only the exception type: its text could carry a secret.
        return {
            "executionId": execution_id,
            "status": ApiTaskStatus.ERROR,
            "errorMsg": f"sandbox error: {type(exc).__name__}",
        }

    def status_of(self, body: dict[str, Any]) -> str:
        return str(body["status"])

    def summary(self, body: dict[str, Any]) -> str:
        outcome = self.outcome
        result = "not made" if outcome is None else (outcome.status_code or "no answer")
        return f"{self.call.method} {self.call.template} -> {result}, {body['status']}"
