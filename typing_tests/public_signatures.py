"""The public signatures, pinned for type checkers (as stamina does): checked by mypy, never run.

A change here is a change to what users' type checkers see: make it on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import assert_type

from truebit_facade import (
    DEFAULT,
    ApiTaskResult,
    ApiTaskStatus,
    AsyncTruebit,
    Execution,
    FunctionResult,
    PollPolicy,
    RetryPolicy,
    Solution,
    Truebit,
    TruebitError,
    UnknownStatusError,
    VerificationStatus,
    VerifiedApiTaskResult,
    VerifiedFunctionResult,
)


def sync_client(tb: Truebit) -> None:
    assert_type(tb.functions.run("ns", "task", "22"), VerifiedFunctionResult)
    assert_type(
        tb.functions.run(
            "ns",
            "task",
            {"any": ["json"]},
            version=2,
            total_solutions=3,
            required_solutions=2,
            gas_limit=10**9,
            timeout=timedelta(minutes=5),
            raise_on_failure=False,
            on_status=print,
        ),
        FunctionResult,
    )
    assert_type(tb.functions.submit("ns", "task", "22", label="stable"), Execution)
    assert_type(tb.functions.get("id", timeout=5), FunctionResult)
    assert_type(tb.functions.wait("id", timeout=None), VerifiedFunctionResult)
    assert_type(
        tb.functions.run_many("ns", "task", ["1", "2"], concurrency=4), list[FunctionResult | TruebitError]
    )
    assert_type(
        tb.api_tasks.run("ns", "task", path="/x/{id}", params={"id": 1}, headers={"X": "y"}),
        VerifiedApiTaskResult,
    )
    assert_type(tb.api_tasks.submit("ns", "task", path="/x", method="POST", body={"a": 1}), Execution)
    assert_type(tb.api_tasks.run_many("ns", "task", [{"path": "/x"}]), list[ApiTaskResult | TruebitError])
    assert_type(tb.with_options(timeout=5, retry=RetryPolicy.none(), poll=PollPolicy(initial=1)), Truebit)
    assert_type(tb.functions.wait("id", timeout=DEFAULT), VerifiedFunctionResult)
    assert_type(
        tb.functions.run("ns", "task", "1", extra_headers={"X-Trace": "t"}, extra_body={"priority": 1}),
        VerifiedFunctionResult,
    )
    assert_type(tb.api_tasks.get("id", extra_headers={"X-Trace": "t"}), ApiTaskResult)
    tb.close()


async def async_client(tb: AsyncTruebit) -> None:
    assert_type(await tb.functions.run("ns", "task", "22"), VerifiedFunctionResult)
    assert_type(await tb.functions.submit("ns", "task", "22"), Execution)
    assert_type(await tb.functions.wait("id"), VerifiedFunctionResult)
    assert_type(await tb.api_tasks.get("id"), ApiTaskResult)
    assert_type(await tb.functions.run_many("ns", "task", ["1"]), list[FunctionResult | TruebitError])
    assert_type(tb.with_options(wait_timeout=60), AsyncTruebit)
    await tb.aclose()


def results(result: FunctionResult, api: ApiTaskResult, error: UnknownStatusError[FunctionResult]) -> None:
    assert_type(result.output, str | None)
    assert_type(result.verification, VerificationStatus | None)
    assert_type(result.status_value, str | None)
    assert_type(result.ok, bool)
    assert_type(result.is_terminal, bool)
    assert_type(api.error_message, str | None)
    assert_type(error.status, str)
    assert_type(error.execution_id, str | None)
    assert result.response is not None
    assert_type(result.response.status_code, int)
    assert_type(result.response.headers, Mapping[str, str])


def verified(tb: Truebit, maybe: FunctionResult) -> None:
    # What run returns by default is verified: its solution is there (the README's quickstart).
    r = tb.functions.run("ns", "task", "22")
    assert_type(r.solution.sender_address, str | None)
    assert_type(r.verification, VerificationStatus)
    assert_type(tb.api_tasks.wait("id").status, ApiTaskStatus)
    # raise_on_failure=False (or any bool) gives the plain result; isinstance narrows it.
    loose = tb.functions.run("ns", "task", "22", raise_on_failure=False)
    assert_type(loose, FunctionResult)
    assert_type(tb.functions.wait("id", raise_on_failure=bool(maybe)), FunctionResult)
    assert_type(loose.solution, Solution | None)
    if isinstance(loose, VerifiedFunctionResult):
        assert_type(loose.solution, Solution)
    assert_type(tb.api_tasks.run("ns", "t", path="/x", raise_on_failure=False), ApiTaskResult)
    assert isinstance(tb.api_tasks.get("id"), ApiTaskResult)
    assert_type(VerifiedApiTaskResult, type[VerifiedApiTaskResult])
