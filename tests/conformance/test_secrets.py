"""Secrets never show: with every logger at DEBUG, successful and failing calls (tracebacks included)
never reveal the API key or an ``input.headers`` value in logs, reprs or exception text."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from truebit_facade import AsyncTruebit, Truebit, TruebitError

NS = "3a2b5129"
API_KEY = "sk-live-Zq8SECRETKEY-4242"
HEADER_SECRET = 'Bearer tok-VERY/SECRET"value-9'
WRONG_KEY = "sk-wrong-ALSOSECRET-0000"
SECRETS = (API_KEY, HEADER_SECRET, WRONG_KEY, "Zq8SECRETKEY", "VERY/SECRET", "ALSOSECRET")


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from truebit_facade.sandbox import ExampleTarget, Sandbox, SandboxConfig, example_registry

    config = SandboxConfig(hold_seconds=1, api_keys={API_KEY: None})
    with ExampleTarget() as target, Sandbox(config, example_registry(target.url)) as sb:
        yield sb


def _texts_of(error: BaseException) -> list[str]:
    return [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        repr(getattr(error, "body", None)),
    ]


def test_no_secret_in_logs_reprs_errors_or_tracebacks(sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore, the sandbox, uvicorn
    seen: list[str] = []

    with Truebit(api_key=API_KEY, base_url=sandbox.url) as tb:
        seen += [repr(tb), repr(tb.functions), repr(tb.api_tasks)]
        result = tb.functions.run(NS, "fibonacci", "20", total_solutions=2)
        seen += [repr(result), repr(result.raw)]
        failing: list[Callable[[], Any]] = [
            lambda: tb.functions.run(NS, "trap", "1"),
            lambda: tb.functions.run(NS, "no-such-task", "1"),
            lambda: tb.functions.get("no-such-execution"),
            lambda: tb.api_tasks.run(
                NS, "no-such-api-task", path="/x", headers={"Authorization": HEADER_SECRET}
            ),
        ]
        api = tb.api_tasks.run(
            NS, "custom", path="/anything/{Id}", params={"Id": 1}, headers={"Authorization": HEADER_SECRET}
        )
        assert api.ok and api.output["headers"]  # the target echoed the headers it got
        seen += [repr(api)]  # (api.output itself holds the echo: the target is the user's own)
        failing.append(
            lambda: tb.api_tasks.run(
                NS,
                "custom",
                path="/status/{code}",
                params={"code": 500},
                headers={"Authorization": HEADER_SECRET},
            )
        )
        for call in failing:
            with pytest.raises(TruebitError) as info:
                call()
            seen += _texts_of(info.value)

    with Truebit(api_key=WRONG_KEY, base_url=sandbox.url) as stranger:
        with pytest.raises(TruebitError) as info:
            stranger.functions.run(NS, "fibonacci", "1")
        seen += _texts_of(info.value)

    async def async_calls() -> None:
        async with AsyncTruebit(api_key=API_KEY, base_url=sandbox.url) as atb:
            seen.append(repr(atb))
            with pytest.raises(TruebitError) as info:
                await atb.functions.run(NS, "trap", "1")
            seen.extend(_texts_of(info.value))

    asyncio.run(async_calls())

    seen += [record.getMessage() for record in caplog.records]
    seen += [logging.Formatter().format(record) for record in caplog.records]
    assert any("request POST" in r.getMessage() for r in caplog.records), "DEBUG request lines are logged"
    for text in seen:
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked in: {text[:300]}"


def test_truebit_log_turns_on_the_package_logging_with_secrets_redacted() -> None:
    import os
    import subprocess
    import sys

    code = """
from truebit_facade import Truebit
from truebit_facade.sandbox import Sandbox
from truebit_facade.sandbox.example_target import ExampleTarget, example_registry
with ExampleTarget() as target, Sandbox(registry=example_registry(target.url)) as sb:
    with Truebit(api_key=sb.api_key, base_url=sb.url) as tb:
        tb.api_tasks.run("3a2b5129", "custom", path="/store/order/{orderId}", params={"orderId": 2},
                         headers={"X-Secret-Token": "tok-very-secret-123"})
        tb.functions.run("3a2b5129", "fibonacci", "7")
"""
    env = {**os.environ, "TRUEBIT_LOG": "debug"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "truebit_facade DEBUG request POST /task/api/execute-by-name" in out.stderr
    assert "response POST /task/function/execute-by-name -> 200" in out.stderr
    assert "tok-very-secret-123" not in out.stderr and "sandbox-dev-key" not in out.stderr
    quiet = subprocess.run(
        [
            sys.executable,
            "-c",
            "import truebit_facade, logging; print(logging.getLogger('truebit_facade').handlers)",
        ],
        env={k: v for k, v in os.environ.items() if k != "TRUEBIT_LOG"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert quiet.stdout.strip() == "[]"  # without the variable, logging is left to the application


def test_a_truebit_log_that_is_not_a_level_warns() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRUEBIT_LOG": "verbose"}
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", "import truebit_facade"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert "TRUEBIT_LOG='verbose' is not a level" in out.stderr
