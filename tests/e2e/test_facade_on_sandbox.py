"""The facade end to end against the real sandbox served by uvicorn on 127.0.0.1.

Uses the package's own pytest plugin (fixtures ``truebit_sandbox`` and ``truebit_client``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from truebit_facade import (
    AsyncTruebit,
    AuthenticationError,
    BadRequestError,
    ExecutionNotFoundError,
    ExecutionStatus,
    FunctionResult,
    PaymentRequiredError,
    PollPolicy,
    TaskFailedError,
    Truebit,
    TruebitError,
    VerificationIndeterminateError,
    VerificationStatus,
    WaitTimeoutError,
)
from truebit_facade.signing import sandbox_solution_hash

NS = "3a2b5129"
FIB = [0, 1]
for _ in range(89):
    FIB.append(FIB[-1] + FIB[-2])


def test_run_returns_the_verified_signed_result(truebit_client: Truebit) -> None:
    result = truebit_client.functions.run(NS, "fibonacci", "22", total_solutions=3, required_solutions=2)
    assert result.output == "17711" and result.ok
    assert result.verification is VerificationStatus.SUCCESS
    assert result.execution_status is ExecutionStatus.SUCCEED
    assert result.solution is not None and result.solution.signature is not None
    assert result.solution.signature.v in (27, 28)
    signed = sandbox_solution_hash(result.execution_id, "17711", "succeed")
    assert result.solution.recover_signer(signed) == result.solution.sender_address
    again = truebit_client.functions.get(result.execution_id)
    assert again.output == "17711" and again.raw["executionId"] == result.execution_id


@pytest.mark.parametrize("n", [0, 1, 2, 45, 89, 90])
def test_fibonacci_through_the_facade(truebit_client: Truebit, n: int) -> None:
    assert truebit_client.functions.run(NS, "fibonacci", str(n)).output == str(FIB[n])


def test_failures_raise_typed_errors_carrying_the_result(truebit_client: Truebit) -> None:
    with pytest.raises(TaskFailedError) as trapped:
        truebit_client.functions.run(NS, "trap", "x")
    assert isinstance(trapped.value.result, FunctionResult)
    assert trapped.value.result.execution_status is ExecutionStatus.FAILED
    assert "trap" in str(trapped.value)
    with pytest.raises(TaskFailedError, match="gas"):
        truebit_client.functions.run(NS, "loop", "", gas_limit=1_000_000)
    quiet = truebit_client.functions.run(NS, "trap", "x", raise_on_failure=False)
    assert not quiet.ok


def test_api_errors_are_typed(truebit_sandbox: Any, truebit_client: Truebit) -> None:
    with pytest.raises(BadRequestError):
        truebit_client.functions.run(NS, "no-such-task", "1")
    with pytest.raises(BadRequestError):
        truebit_client.functions.run(NS, "fibonacci", "1", version=999)
    with pytest.raises(ExecutionNotFoundError):
        truebit_client.functions.get("0123456789abcdef")
    with (
        Truebit(api_key="wrong-key", base_url=truebit_sandbox.url) as stranger,
        pytest.raises(AuthenticationError),
    ):
        stranger.functions.run(NS, "fibonacci", "1")


class TestCredit:
    @pytest.fixture
    def truebit_sandbox_config(self) -> Any:
        from truebit_facade.sandbox import SandboxConfig

        return SandboxConfig(hold_seconds=2, api_keys={"poor-key": 1})

    def test_out_of_credit_is_payment_required(self, truebit_client: Truebit) -> None:
        assert truebit_client.functions.run(NS, "fibonacci", "5").output == "5"
        with pytest.raises(PaymentRequiredError):
            truebit_client.functions.run(NS, "fibonacci", "5")


class TestSlowConsensus:
    """A node 3 s late, a 2 s sync hold: the POST answers with the id alone and the client polls."""

    @pytest.fixture
    def truebit_sandbox_config(self) -> Any:
        from truebit_facade.sandbox import NodeFault, SandboxConfig

        return SandboxConfig(hold_seconds=1, faulty_nodes={1: NodeFault("slow", 2.5)})

    def test_hold_expiry_falls_back_to_polling(self, truebit_sandbox: Any) -> None:
        with Truebit(
            api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url, sync_hold=1,
            poll=PollPolicy(initial=0.1, maximum=0.5),
        ) as tb:  # fmt: skip
            result = tb.functions.run(NS, "fibonacci", "30", total_solutions=2)
        assert result.output == str(FIB[30]) and result.ok

    def test_wait_deadline_then_resume_loses_nothing(self, truebit_sandbox: Any) -> None:
        with Truebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url) as tb:
            with pytest.raises(WaitTimeoutError) as info:
                tb.functions.run(NS, "fibonacci", "12", total_solutions=2, timeout=0.5)
            err = info.value
            assert err.execution_id and err.last_status in (None, "Running")
            result = tb.functions.wait(err.execution_id, timeout=30)
        assert result.output == "144"


class TestDisagreement:
    @pytest.fixture
    def truebit_sandbox_config(self) -> Any:
        from truebit_facade.sandbox import NodeFault, SandboxConfig

        return SandboxConfig(hold_seconds=2, faulty_nodes={2: NodeFault("wrong_output")})

    def test_indeterminate_is_raised_with_the_result(self, truebit_client: Truebit) -> None:
        with pytest.raises(VerificationIndeterminateError) as info:
            truebit_client.functions.run(NS, "fibonacci", "7", total_solutions=3, required_solutions=3)
        assert isinstance(info.value.result, FunctionResult)
        assert info.value.result.verification is VerificationStatus.INDETERMINATE


def test_async_client_runs_many_on_one_pool(truebit_sandbox: Any) -> None:
    async def main() -> list[Any]:
        async with AsyncTruebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url) as tb:
            inputs = [str(i % 91) for i in range(60)] + ["not a number"]
            return await tb.functions.run_many(NS, "fibonacci", inputs, concurrency=12)

    results = asyncio.run(main())
    assert [r.output for r in results[:60]] == [str(FIB[i % 91]) for i in range(60)]
    assert isinstance(results[60], TruebitError) and results[60].execution_id


def test_async_client_survives_a_new_event_loop(truebit_sandbox: Any) -> None:
    tb = AsyncTruebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url)
    for _ in range(2):  # each asyncio.run closes its loop; the client must not be stuck on the first
        assert asyncio.run(tb.functions.run(NS, "fibonacci", "10")).output == "55"
    asyncio.run(tb.aclose())
    with pytest.raises(TruebitError, match="closed"):
        asyncio.run(tb.functions.get("x"))


def test_sync_run_many(truebit_client: Truebit) -> None:
    results = truebit_client.functions.run_many(
        NS, "echo", [f'{{"i": {i}}}' for i in range(20)], concurrency=4
    )
    assert [r.output for r in results] == [f'{{"i": {i}}}' for i in range(20)]  # type: ignore[union-attr]


def test_debug_logs_carry_no_secret(truebit_sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="truebit_facade")
    with Truebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url) as tb:
        tb.functions.run(NS, "fibonacci", "3")
        with pytest.raises(TaskFailedError):
            tb.functions.run(NS, "trap", "3")
    assert len(caplog.records) >= 4
    assert all(truebit_sandbox.api_key not in r.getMessage() for r in caplog.records)


def test_sync_run_many_shares_one_connection_pool(
    truebit_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpcore
    import httpx

    created: list[str] = []

    def counting(cls: type[Any]) -> None:
        real_init = cls.__init__

        def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
            created.append(cls.__name__)
            real_init(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", counting_init)

    counting(httpcore.ConnectionPool)
    counting(httpx.Client)
    from truebit_facade._sync_pool import SHARD

    with Truebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url, max_connections=10) as tb:
        results = tb.functions.run_many(NS, "echo", [str(i) for i in range(24)], concurrency=8)
    assert [r.output for r in results] == [str(i) for i in range(24)]  # type: ignore[union-attr]
    # One pool, made once for all the threads: httpcore's, in shards of at most SHARD connections
    # (10 in 3: 4, 3, 3), and no httpx.Client above it.
    assert created == ["ConnectionPool"] * -(-10 // SHARD)
