"""Secrets never show: with every logger at DEBUG, successful and failing calls (tracebacks included)
never reveal the API key or an ``input.headers`` value in logs, reprs or exception text."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import logging
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from truebit_facade import AsyncTruebit, MalformedResponseError, Truebit, TruebitError, ValidationError

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


# --- a server that answers with a secret as the execution id ----------------------------------

HEADER_TOKEN = "tok-HEADERSECRET-77"  # an input.headers value (no "/": a usable id shape)


@contextlib.contextmanager
def id_echoing_server(execution_id: str, *, sync_shape: bool) -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that answers every execute request with ``execution_id`` (the
    async shape, or a verified sync result) and every status read as a success; records the paths."""
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            paths.append(self.path)
            self.rfile.read(int(self.headers.get("content-length") or 0))
            done = {
                "verificationStatus": "Success",
                "clearTextSolution": {"output": "1", "executionStatus": "succeed"},
            }
            self._answer({"executionId": execution_id, **(done if sync_shape else {})})

        def do_GET(self) -> None:
            paths.append(self.path)
            eid = self.path.rsplit("/", 1)[-1]
            self._answer({"executionId": eid, "verificationStatus": "Success", "status": "Success"})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _every_view(error: BaseException) -> list[str]:
    """Everything a user (or a logger, or an error tracker) can see of ``error``."""
    views = [*_texts_of(error), repr(vars(error))]
    views += [repr(getattr(error, name, None)) for name in dir(error) if not name.startswith("__")]
    return views


@pytest.mark.parametrize("sync_shape", [False, True], ids=["async-shape", "sync-result"])
@pytest.mark.parametrize("template", ["{}", "exec-{}-1"], ids=["is-the-key", "holds-the-key"])
def test_an_execution_id_that_is_the_api_key_is_refused_and_shown_nowhere(
    caplog: pytest.LogCaptureFixture, sync_shape: bool, template: str
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with id_echoing_server(template.format(API_KEY), sync_shape=sync_shape) as (url, paths):
        with Truebit(api_key=API_KEY, base_url=url) as tb:
            calls: list[Callable[[], Any]] = [
                lambda: tb.functions.run(NS, "fibonacci", "1"),
                lambda: tb.functions.run(NS, "fibonacci", "1", timeout=5),  # async mode, then polling
                lambda: tb.functions.submit(NS, "fibonacci", "1"),
                lambda: tb.api_tasks.run(NS, "custom", path="/x"),
            ]
            for call in calls:
                with pytest.raises(MalformedResponseError) as info:
                    call()
                assert info.value.may_have_submitted and info.value.execution_id is None
                assert "secrets" in str(info.value) and "may have been submitted" in str(info.value)
                seen += _every_view(info.value)

        async def async_run() -> None:
            async with AsyncTruebit(api_key=API_KEY, base_url=url) as atb:
                with pytest.raises(MalformedResponseError) as info:
                    await atb.functions.run(NS, "fibonacci", "1")
                seen.extend(_every_view(info.value))

        asyncio.run(async_run())
        assert all(p.endswith("execute-by-name") for p in paths), paths  # never polled with the key
    seen += [logging.Formatter().format(record) for record in caplog.records]
    assert any("response POST" in r.getMessage() for r in caplog.records)
    for text in seen:
        assert API_KEY not in text and "Zq8SECRETKEY" not in text, text[:300]


def test_an_execution_id_that_is_a_header_value_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        id_echoing_server(HEADER_TOKEN, sync_shape=False) as (url, paths),
        Truebit(API_KEY, base_url=url) as tb,
    ):
        with pytest.raises(MalformedResponseError) as info:
            tb.api_tasks.run(NS, "custom", path="/x", headers={"Authorization": HEADER_TOKEN})
        # A user's own id that is a secret is never sent either (nothing reaches a URL or a log).
        with pytest.raises(ValidationError, match="execution_id"):
            tb.functions.wait(API_KEY)
        with pytest.raises(ValidationError, match="execution_id"):
            tb.api_tasks.get(HEADER_TOKEN)
    assert len(paths) == 1
    views = _every_view(info.value) + [logging.Formatter().format(r) for r in caplog.records]
    assert not [v for v in views if HEADER_TOKEN in v or "HEADERSECRET" in v]


def test_an_id_holding_a_short_header_value_by_chance_is_kept() -> None:
    # A random id holds a 3-character value now and then: refusing it would lose a running task.
    with (
        id_echoing_server("9f3a-123-77c1", sync_shape=False) as (url, _),
        Truebit(API_KEY, base_url=url) as tb,
    ):
        execution = tb.api_tasks.submit(NS, "custom", path="/x", headers={"X-Version": "123"})
    assert execution.execution_id == "9f3a-123-77c1"
