"""Fault injection: every kind observable, seeded determinism, off by default, and the start counters."""

from __future__ import annotations

import email.utils
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from truebit_facade.sandbox import FAULT_KINDS, FaultConfig, Sandbox, SandboxConfig, TaskRegistry
from truebit_facade.sandbox._faults import retry_after_date

from .sandbox_helpers import API_EXECUTE, EXECUTE, STATS, STATUS, SandboxFactory, api_body, body, client_for

IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT"
)


def faulty(
    make_sandbox: SandboxFactory, *sequence: str | None, registry: TaskRegistry | None = None, **options: Any
) -> Sandbox:
    """A sandbox whose first matched requests get exactly ``sequence``."""
    return make_sandbox(registry=registry, faults=FaultConfig(sequence=sequence, **options))


def stats(sandbox: Sandbox) -> dict[str, Any]:
    """The counters as an out-of-process test reads them: over HTTP, without an API key."""
    with httpx.Client(base_url=sandbox.url) as anonymous:
        data: dict[str, Any] = anonymous.get(STATS).json()
    return data


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [
        ("500", 500, "application/json"),
        ("502", 502, "text/html; charset=utf-8"),
        ("503", 503, "application/json"),
        ("503_retry_after", 503, "application/json"),
        ("429_seconds", 429, "application/json"),
        ("429_date", 429, "application/json"),
        ("520", 520, "text/plain; charset=utf-8"),
    ],
)
def test_status_faults_come_before_the_dispatcher(
    make_sandbox: SandboxFactory, kind: str, status: int, content_type: str
) -> None:
    sandbox = faulty(make_sandbox, kind, retry_after_seconds=3)
    with client_for(sandbox) as client:
        started = time.time()
        response = client.post(EXECUTE, json=body(input="11"))
        assert response.status_code == status
        assert response.headers["content-type"] == content_type
        assert response.headers["x-sandbox-fault"] == kind
        if content_type == "application/json":
            assert kind in response.json()["message"]
        retry_after = response.headers.get("retry-after")
        if kind in ("503_retry_after", "429_seconds"):
            assert retry_after == "3"
        elif kind == "429_date":
            assert retry_after is not None and IMF_FIXDATE.fullmatch(retry_after)
            moment = email.utils.parsedate_to_datetime(retry_after).timestamp()
            assert started + 3 <= moment <= started + 5  # in the near future
        else:
            assert retry_after is None
        assert stats(sandbox)["startedTotal"] == 0  # no execution started
        assert client.post(EXECUTE, json=body(input="11")).status_code == 200  # the next one goes through
    assert sandbox.dispatcher.started_count(body(input="11")) == 1
    assert sandbox.faults is not None and sandbox.faults.stats() == {"matched": 2, "injected": {kind: 1}}


@pytest.mark.parametrize("path", [EXECUTE, API_EXECUTE])
def test_drop_closes_the_connection_without_a_response(
    make_sandbox: SandboxFactory, api_registry: TaskRegistry, path: str
) -> None:
    sandbox = faulty(make_sandbox, "drop", registry=api_registry)
    payload = body() if path == EXECUTE else api_body()
    with client_for(sandbox) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post(path, json=payload)
        assert client.post(path, json=payload).status_code == 200  # a fresh connection works
    assert sandbox.dispatcher.started_count(payload) == 1


def test_slow_delays_and_a_client_that_gives_up_starts_nothing(make_sandbox: SandboxFactory) -> None:
    sandbox = faulty(make_sandbox, "slow", "slow", slow_seconds=0.4)
    with client_for(sandbox) as client:
        started = time.monotonic()
        response = client.post(EXECUTE, json=body(input="12"))
        assert 0.38 < time.monotonic() - started < 1.5
        assert response.status_code == 200 and response.headers["x-sandbox-fault"] == "slow"
        with pytest.raises(httpx.ReadTimeout):
            client.post(EXECUTE, json=body(input="13"), timeout=0.1)
    time.sleep(0.5)
    assert sandbox.dispatcher.started_count(body(input="12")) == 1
    assert sandbox.dispatcher.started_count(body(input="13")) == 0  # it never reached the dispatcher


def test_after_faults_lose_the_answer_of_a_started_execution(make_sandbox: SandboxFactory) -> None:
    sandbox = faulty(make_sandbox, "drop_after", "500_after", "slow_after", slow_seconds=0.3)
    with client_for(sandbox) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post(EXECUTE, json=body(input="21"))
        assert stats(sandbox)["startedTotal"] == 1  # the execution ran; only its answer was lost
        lost = client.post(EXECUTE, json=body(input="22"))
        assert lost.status_code == 500 and lost.headers["x-sandbox-fault"] == "500_after"
        started = time.monotonic()
        late = client.post(EXECUTE, json=body(input="23"))
        assert late.status_code == 200 and time.monotonic() - started >= 0.29
        assert late.json()["clearTextSolution"]["output"] == "28657"
    counters = stats(sandbox)
    assert counters["startedTotal"] == 3
    assert counters["startedByInput"] == {"21": 1, "22": 1, "23": 1}
    assert counters["executions"] == {"Success": 3}  # their results can still be read by id


def test_after_faults_on_api_tasks(make_sandbox: SandboxFactory, api_registry: TaskRegistry) -> None:
    sandbox = faulty(make_sandbox, "drop_after", "500", registry=api_registry, endpoints=("api-execute",))
    payload = api_body(params={"Id": 99})
    with client_for(sandbox) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post(API_EXECUTE, json=payload)
        assert client.post(API_EXECUTE, json=payload).status_code == 500
        assert client.post(EXECUTE, json=body()).status_code == 200  # function tasks not matched
    assert sandbox.dispatcher.started_count(payload) == 1
    assert stats(sandbox)["faults"] == {"matched": 2, "injected": {"drop_after": 1, "500": 1}}


def test_status_endpoints_get_faults_too(make_sandbox: SandboxFactory) -> None:
    sandbox = faulty(make_sandbox, "503", "drop", endpoints=("status",))
    with client_for(sandbox) as client:
        execution_id = client.post(EXECUTE, json=body()).json()["executionId"]
        assert client.get(STATUS + execution_id).status_code == 503
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.get(STATUS + execution_id)
        assert client.get(STATUS + execution_id).status_code == 200
        assert client.get(STATS).status_code == 200  # the debug endpoint is never affected


def _outcomes(sandbox: Sandbox, count: int) -> list[str]:
    seen: list[str] = []
    with client_for(sandbox) as client:
        for _ in range(count):
            try:
                response = client.get(STATUS + "0" * 32)
            except httpx.TransportError:
                seen.append("dropped")
                continue
            seen.append(response.headers.get("x-sandbox-fault", str(response.status_code)))
    return seen


def test_faults_are_seeded_and_deterministic(make_sandbox: SandboxFactory) -> None:
    rates = {"500": 0.1, "503_retry_after": 0.1, "429_seconds": 0.1, "429_date": 0.1, "520": 0.1, "drop": 0.1}
    first = _outcomes(make_sandbox(faults=FaultConfig(rates=rates, seed=7)), 40)
    second = _outcomes(make_sandbox(faults=FaultConfig(rates=rates, seed=7)), 40)
    other = _outcomes(make_sandbox(faults=FaultConfig(rates=rates, seed=8)), 40)
    assert first == second
    assert first != other
    assert 8 <= sum(outcome != "404" for outcome in first) <= 40  # ~60 % faults
    assert "dropped" in first + other


def test_rates_and_reset(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(faults=FaultConfig(rates={"503": 0.5}, seed=1))
    seen = _outcomes(sandbox, 100)
    assert 30 <= seen.count("503") <= 70 and seen.count("503") + seen.count("404") == 100
    assert sandbox.faults is not None and sandbox.faults.stats() == {
        "matched": 100,
        "injected": {"503": seen.count("503")},
    }
    with client_for(sandbox) as client:
        reset = client.delete(STATS).json()
    assert reset["faults"] == {"matched": 0, "injected": {}}
    assert _outcomes(sandbox, 100) == seen  # re-seeded


def test_faults_are_off_by_default(shared_sandbox: Sandbox, client: httpx.Client) -> None:
    assert SandboxConfig().faults is None and shared_sandbox.faults is None
    assert all(client.post(EXECUTE, json=body(input="5")).status_code == 200 for _ in range(20))
    assert client.get(STATS).json()["faults"] is None
    assert not FaultConfig().enabled and FaultConfig(rates={"drop": 0.1}).enabled


@pytest.mark.parametrize(
    "options",
    [
        {"rates": {"404": 0.5}},
        {"rates": {"500": 1.5}},
        {"rates": {"500": -0.1}},
        {"rates": {"500": 0.6, "503": 0.6}},
        {"rates": {"500": True}},
        {"sequence": ("nope",)},
        {"endpoints": ("everywhere",)},
        {"slow_seconds": -1},
        {"retry_after_seconds": -1},
        {"retry_after_seconds": 1.5},
    ],
)
def test_fault_config_is_checked(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultConfig(**options)


def test_fault_kinds_and_retry_after_date() -> None:
    assert set(FAULT_KINDS) == {
        "500", "500_retry_after", "502", "502_retry_after", "503", "503_retry_after", "429_seconds",
        "429_date", "520", "drop", "slow", "drop_after", "500_after", "slow_after",
    }  # fmt: skip
    now = datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC).timestamp()
    assert retry_after_date(1, now) == "Fri, 02 Jan 2026 03:04:07 GMT"
    assert retry_after_date(0, now) == "Fri, 02 Jan 2026 03:04:07 GMT"  # never in the past
    assert retry_after_date(30, now) == "Fri, 02 Jan 2026 03:04:36 GMT"


def test_cli_flags() -> None:
    from truebit_facade.sandbox.__main__ import _faults, _parser

    args = _parser().parse_args(
        ["--fault", "503=0.2", "--fault", "drop_after=0.1", "--fault-seed", "5", "--slow-seconds", "0.5",
         "--retry-after", "2", "--fault-endpoint", "api-execute"]
    )  # fmt: skip
    config = _faults(args)
    assert config == FaultConfig(
        rates={"503": 0.2, "drop_after": 0.1},
        seed=5,
        slow_seconds=0.5,
        retry_after_seconds=2,
        endpoints=("api-execute",),
    )
    assert _faults(_parser().parse_args([])) is None
    for bad in ("503", "404=0.1", "503=2", "503=x"):
        with pytest.raises(SystemExit):
            _parser().parse_args(["--fault", bad])


def test_cli_with_the_example_target_and_faults() -> None:
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "truebit_facade.sandbox", "--port", "0", "--log-level", "warning",
         "--example-target", "--fault", "500_after=1", "--fault-endpoint", "api-execute"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        url = lines[0].split()[-1]
        assert url.startswith("http://127.0.0.1:") and lines[3].startswith(
            "Example target API on http://127.0.0.1:"
        )
        with httpx.Client(base_url=url, headers={"x-api-key": "sandbox-dev-key"}, timeout=10) as client:
            assert client.post(API_EXECUTE, json=api_body()).status_code == 500  # answer lost after the call
            assert client.post(EXECUTE, json=body()).status_code == 200
            counters = client.get(STATS).json()
        assert counters["startedByTask"] == {"3a2b5129/custom@1": 1, "3a2b5129/fibonacci@1": 1}
        assert counters["faults"] == {"matched": 1, "injected": {"500_after": 1}}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)


def test_every_5xx_kind_has_a_retry_after_variant() -> None:
    from truebit_facade.sandbox._faults import _canned

    config = FaultConfig(retry_after_seconds=3)
    for kind, status in (("500_retry_after", 500), ("502_retry_after", 502), ("503_retry_after", 503)):
        got, headers, _ = _canned(kind, config)
        assert got == status and (b"retry-after", b"3") in headers
