"""An in-memory stand-in for the service, speaking :class:`BatchTransport` (no HTTP): for the unit
tests of the driver and for measuring the ledger's own cost per input (``scripts/bench_batch.py``).

Each execution answers ``Running`` for its first ``running_reads`` status reads, then ends (a held
submit answers with the result when ``running_reads`` is 0, else its hold expires with the id): function
tasks with ``output = input``, API tasks with ``output = {"echo": call}`` (headers included, as an
echoing target would: the batch must scrub them). ``faults`` scripts errors by call number.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

from .. import (
    ApiSolutionStatus,
    ApiTaskResult,
    ApiTaskStatus,
    ExecutionStatus,
    FunctionResult,
    JsonObject,
    Solution,
    TruebitError,
    VerificationStatus,
)
from ._items import Job, canonical

__all__ = ["StubService"]


class StubService:
    """See the module docstring. ``started`` counts executions by the canonical JSON of the input;
    ``submit_fault(n, value)`` / ``read_fault(n, execution_id)`` may return an error to raise for the
    n-th call (1-based), or ``None``."""

    def __init__(
        self,
        *,
        running_reads: int = 1,
        latency: float = 0.0,
        submit_fault: Callable[[int, Any], TruebitError | None] | None = None,
        read_fault: Callable[[int, str], TruebitError | None] | None = None,
    ) -> None:
        self.running_reads = running_reads
        self.latency = latency
        self.submit_fault = submit_fault
        self.read_fault = read_fault
        self.started: Counter[str] = Counter()
        self.submits = 0
        self.held = 0
        self.reads = 0
        self._ids = itertools.count(1)
        self._executions: dict[str, tuple[Job, Any, int]] = {}

    async def submit(
        self, job: Job, value: Any, *, hold: bool = False
    ) -> str | FunctionResult | ApiTaskResult:
        self.submits += 1
        self.held += hold
        await asyncio.sleep(self.latency)
        if self.submit_fault is not None:
            error = self.submit_fault(self.submits, value)
            if error is not None:
                raise error
        execution_id = f"{next(self._ids):032x}"
        self.started[canonical(value).decode()] += 1
        self._executions[execution_id] = (job, job.call(value), 0)
        if hold and self.running_reads == 0:
            return self._answer(job, execution_id, done=True)
        return execution_id

    async def get(self, job: Job, execution_id: str) -> FunctionResult | ApiTaskResult:
        self.reads += 1
        await asyncio.sleep(self.latency)
        if self.read_fault is not None:
            error = self.read_fault(self.reads, execution_id)
            if error is not None:
                raise error
        kind_job, call, reads = self._executions[execution_id]
        reads += 1
        self._executions[execution_id] = (kind_job, call, reads)
        return self._answer(job, execution_id, done=reads > self.running_reads)

    def _answer(self, job: Job, execution_id: str, *, done: bool) -> FunctionResult | ApiTaskResult:
        _, call, _ = self._executions[execution_id]
        if done:
            del self._executions[execution_id]  # bounded: ended executions are forgotten
        if job.kind == "function":
            output = call["input"] if isinstance(call["input"], str) else canonical(call["input"]).decode()
            return _function_result(execution_id, output if done else None)
        return _api_result(
            execution_id, {"echo": {k: v for k, v in call.items() if v is not None}} if done else None
        )


def _function_result(execution_id: str, output: str | None) -> FunctionResult:
    if output is None:
        raw: dict[str, Any] = {"executionId": execution_id, "verificationStatus": "Running"}
        return FunctionResult(execution_id, VerificationStatus.RUNNING, None, JsonObject(raw), JsonObject())
    solution = {"output": output, "executionStatus": "succeed"}
    raw = {"executionId": execution_id, "verificationStatus": "Success", "clearTextSolution": solution}
    return FunctionResult(
        execution_id,
        VerificationStatus.SUCCESS,
        Solution(output, ExecutionStatus.SUCCEED, None, None),
        JsonObject(raw),
        JsonObject(),
    )


def _api_result(execution_id: str, output: Any) -> ApiTaskResult:
    if output is None:
        raw: dict[str, Any] = {"executionId": execution_id, "status": "Running"}
        return ApiTaskResult(
            execution_id, ApiTaskStatus.RUNNING, None, None, None, None, None, JsonObject(raw)
        )
    raw = {"executionId": execution_id, "status": "Success", "clearTextSolution": {"output": output}}
    return ApiTaskResult(
        execution_id,
        ApiTaskStatus.SUCCESS,
        JsonObject(output),
        ApiSolutionStatus.SUCCEED,
        None,
        None,
        None,
        JsonObject(raw),
    )
