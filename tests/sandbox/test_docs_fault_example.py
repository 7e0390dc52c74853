"""The per-test fault injection example of docs/testing.md, as written there."""

import pytest

from truebit_facade import RetryPolicy, Truebit
from truebit_facade.sandbox import FaultConfig, SandboxConfig


@pytest.fixture
def truebit_sandbox_config() -> SandboxConfig:
    # hold_seconds=0: every run polls, so the status reads meet the faults
    return SandboxConfig(
        hold_seconds=0, faults=FaultConfig(rates={"503": 0.5}, endpoints=("status",), seed=7)
    )


def test_my_code_rides_out_flaky_status_reads(truebit_sandbox):  # type: ignore[no-untyped-def]
    with Truebit(
        api_key=truebit_sandbox.api_key,
        base_url=truebit_sandbox.url,
        retry=RetryPolicy(attempts=10, initial=0.01, maximum=0.05),
    ) as tb:
        assert tb.functions.run("3a2b5129", "fibonacci", "10").output == "55"
    assert truebit_sandbox.faults.injected  # the faults were met, and ridden out
