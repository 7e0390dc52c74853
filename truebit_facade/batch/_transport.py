"""How a batch reaches the service: two calls of the public client, ``submit`` (async mode, or held
in sync mode) and ``get`` (one status read), behind a small protocol so that the driver runs the same over
``AsyncTruebit``, over ``Truebit`` (its blocking calls on a bounded thread pool), or over a stub."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from .. import RetryPolicy
from ._items import Job
from ._threads import DaemonThreads

if TYPE_CHECKING:
    from .. import ApiTaskResult, AsyncTruebit, FunctionResult, Truebit

__all__ = ["AsyncClientTransport", "BatchTransport", "ThreadedClientTransport"]


@runtime_checkable
class BatchTransport(Protocol):
    """What a batch needs from a client. ``submit`` returns the execution id, or with ``hold`` (sync
    mode: the service holds the request while the task runs) the task's final result when it ended
    within the hold; errors are the client's ``TruebitError``s (``may_have_submitted`` and
    ``retry_after`` are read from them). A transport may ignore ``hold`` and always return an id, and
    may name in ``secrets`` (a tuple of strings) what the ledger must never hold, as the client's
    transports do with its API key."""

    async def submit(
        self, job: Job, value: Any, *, hold: bool = False
    ) -> str | FunctionResult | ApiTaskResult: ...

    async def get(self, job: Job, execution_id: str) -> FunctionResult | ApiTaskResult: ...


def _submit_args(job: Job, value: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    call = job.call(value)
    if job.kind == "function":
        return (job.namespace, job.task, call.pop("input")), call
    return (job.namespace, job.task), call


C = TypeVar("C", "AsyncTruebit", "Truebit")


def _no_retries(client: C) -> C:
    """The client as the batch drives it: the same pool and settings, retries off. One owner of
    retries per request: the batch decides (a refused submit goes back to pending, a failed status
    read is read again on the poll schedule, 429s slow the whole batch), never the client inside it."""
    return client.with_options(retry=RetryPolicy.none())


def _secrets_of(client: AsyncTruebit | Truebit) -> tuple[str, ...]:
    """What the batch keeps out of its ledger besides header values: the client's API key."""
    key = client.settings.api_key
    return (key,) if key else ()


class AsyncClientTransport:
    """Over an ``AsyncTruebit``: its own connection pool, on the running loop."""

    def __init__(self, client: AsyncTruebit) -> None:
        self._client = _no_retries(client)
        self.secrets = _secrets_of(client)

    async def submit(
        self, job: Job, value: Any, *, hold: bool = False
    ) -> str | FunctionResult | ApiTaskResult:
        args, kwargs = _submit_args(job, value)
        tasks = self._client.functions if job.kind == "function" else self._client.api_tasks
        execution = await tasks.submit(*args, hold=hold, **kwargs)
        return execution.execution_id if execution.result is None else execution.result

    async def get(self, job: Job, execution_id: str) -> FunctionResult | ApiTaskResult:
        if job.kind == "function":
            return await self._client.functions.get(execution_id)
        return await self._client.api_tasks.get(execution_id)


class ThreadedClientTransport:
    """Over a ``Truebit``: each blocking call on a pool of ``workers`` threads (the client is safe to
    share between threads; its ``run_many`` does the same)."""

    def __init__(self, client: Truebit, workers: int) -> None:
        self._client = _no_retries(client)
        self.secrets = _secrets_of(client)
        self._threads = DaemonThreads(workers, "truebit-batch")

    async def submit(
        self, job: Job, value: Any, *, hold: bool = False
    ) -> str | FunctionResult | ApiTaskResult:
        args, kwargs = _submit_args(job, value)
        tasks = self._client.functions if job.kind == "function" else self._client.api_tasks

        def call() -> str | FunctionResult | ApiTaskResult:
            execution = tasks.submit(*args, hold=hold, **kwargs)
            return execution.execution_id if execution.result is None else execution.result

        return await self._threads.run(call)

    async def get(self, job: Job, execution_id: str) -> FunctionResult | ApiTaskResult:
        tasks: Any = self._client.functions if job.kind == "function" else self._client.api_tasks
        result: FunctionResult | ApiTaskResult = await self._threads.run(lambda: tasks.get(execution_id))
        return result

    def close(self) -> None:
        # Calls still running finish in their threads (their answers are dropped), or end with the
        # process: a submit cut short here is exactly the row the batch reports in doubt.
        self._threads.close()
