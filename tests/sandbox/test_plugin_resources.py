"""The plugin's fixtures leave no socket, transport or event loop open, whatever the test does.

A user's suite runs in a subprocess as a user runs it: ``python -X dev -W error::ResourceWarning -m
pytest -W error``, with pytest-asyncio configured as most projects do, alone and under xdist. An
unclosed socket is reported only when it is garbage collected, which may be after the last test, so
the suite's ``conftest.py`` collects at the very end, and the output is searched as well as the exit
status (a warning at interpreter exit is printed, not raised).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

INI = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

CONFTEST = """\
import gc


def pytest_unconfigure(config):
    gc.collect()  # an unclosed socket warns when collected: make that happen before exit
"""

SUITE = """\
import asyncio

import httpx
import pytest

from truebit_facade import RetryPolicy

NS = "3a2b5129"


def test_sandbox(truebit_sandbox):
    with httpx.Client(base_url=truebit_sandbox.url) as raw:
        assert raw.get("/_sandbox/stats").status_code == 200


def test_client(truebit_client):
    assert truebit_client.functions.run(NS, "fibonacci", "10").output == "55"


def test_client_closed_by_the_test(truebit_client):
    assert truebit_client.functions.run(NS, "fibonacci", "10").output == "55"
    truebit_client.close()


def test_api_client(truebit_api_sandbox, truebit_api_client):
    assert truebit_api_client.api_tasks.run(NS, "custom", path="/anything/{Id}", params={"Id": 1}).ok


def test_api_client_closed_by_the_test(truebit_api_client):
    assert truebit_api_client.api_tasks.run(NS, "custom", path="/anything/{Id}", params={"Id": 1}).ok
    truebit_api_client.close()


async def test_sync_client_in_an_async_test(truebit_client):
    assert truebit_client.functions.run(NS, "fibonacci", "10").output == "55"


async def test_async_client(truebit_async_client):
    assert (await truebit_async_client.functions.run(NS, "fibonacci", "10")).output == "55"


async def test_async_client_closed_by_the_test(truebit_async_client):
    assert (await truebit_async_client.functions.run(NS, "fibonacci", "10")).output == "55"
    await truebit_async_client.aclose()


async def test_async_client_many_connections(truebit_async_client):
    results = await truebit_async_client.functions.run_many(NS, "fibonacci", [str(n) for n in range(12)])
    assert [r.output for r in results][:3] == ["0", "1", "1"]


async def test_async_client_through_a_with_options_copy(truebit_async_client):
    copy = truebit_async_client.with_options(retry=RetryPolicy.none())
    assert (await copy.functions.run(NS, "fibonacci", "10")).output == "55"


@pytest.fixture
async def wrapped(truebit_async_client):
    yield truebit_async_client


async def test_async_client_through_an_async_fixture(wrapped):
    assert (await wrapped.functions.run(NS, "fibonacci", "10")).output == "55"


@pytest.mark.asyncio(loop_scope="module")
async def test_async_client_on_a_module_loop(truebit_async_client):
    assert (await truebit_async_client.functions.run(NS, "fibonacci", "10")).output == "55"


@pytest.mark.asyncio(loop_scope="session")
async def test_async_client_on_the_session_loop(truebit_async_client):
    assert (await truebit_async_client.functions.run(NS, "fibonacci", "10")).output == "55"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_async_client_under_anyio(truebit_async_client):
    assert (await truebit_async_client.functions.run(NS, "fibonacci", "10")).output == "55"


def test_async_client_in_two_loops_of_a_sync_test(truebit_async_client):
    async def fib():
        return (await truebit_async_client.functions.run(NS, "fibonacci", "10")).output

    assert asyncio.run(fib()) == "55"
    assert asyncio.run(fib()) == "55"  # a new loop: a new pool, the first one closed with its loop


@pytest.fixture
def own_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()  # after the client fixture's teardown, which closes the pool on this open loop


def test_async_client_on_a_loop_left_open(own_loop, truebit_async_client):
    run = own_loop.run_until_complete(truebit_async_client.functions.run(NS, "fibonacci", "10"))
    assert run.output == "55"
"""

TESTS = len(re.findall(r"^(?:async )?def test_", SUITE, re.M))
LEAKS = ("ResourceWarning", "unclosed", "Exception ignored", "PytestUnraisableExceptionWarning")


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist -n 2"])
def test_no_fixture_leaves_a_resource_open(tmp_path: Path, workers: list[str]) -> None:
    (tmp_path / "pytest.ini").write_text(INI, encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_suite.py").write_text(SUITE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUEBIT_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-m", "pytest", "-q", "-p",
         "no:cacheprovider", "-W", "error", *workers, "test_suite.py"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
        check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert f"{TESTS} passed" in done.stdout, output[-6000:]
    assert not [word for word in LEAKS if word in output], output[-6000:]
