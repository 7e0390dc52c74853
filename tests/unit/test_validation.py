"""Bad input is refused before any I/O with a ValidationError naming the field.

The transport fails the test if it is touched at all.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from truebit_facade import (
    AsyncTruebit,
    PollPolicy,
    RetryPolicy,
    Truebit,
    ValidationError,
)
from truebit_facade import _validation as check

from .conftest import Harness


def _untouchable(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"the transport was touched: {request.method} {request.url}")


F = "functions"
A = "api_tasks"
API = {"path": "/x"}
DONE = {
    "clearTextSolution": {"output": "8", "executionStatus": "succeed", "senderAddress": "0x1"},
    "verificationStatus": "Success",
}

CASES: list[tuple[str, str, str, tuple[Any, ...], dict[str, Any]]] = [
    # (id, namespace attr, method, args, kwargs) -> field named in the error
    ("namespace", F, "run", ("", "fib", "1"), {}),
    ("namespace", F, "run", ("   ", "fib", "1"), {}),
    ("namespace", F, "submit", (None, "fib", "1"), {}),
    ("namespace", F, "run", ("ns\n", "fib", "1"), {}),
    ("task", F, "run", ("ns", "", "1"), {}),
    ("task", F, "run", ("ns", "\t", "1"), {}),
    ("task", A, "run", ("ns", 5), API),
    ("version", F, "run", ("ns", "fib", "1"), {"version": -1}),
    ("version", F, "run", ("ns", "fib", "1"), {"version": 2**32}),
    ("version", F, "run", ("ns", "fib", "1"), {"version": True}),
    ("version", F, "run", ("ns", "fib", "1"), {"version": 1.5}),
    ("label", F, "run", ("ns", "fib", "1"), {"label": ""}),
    ("total_solutions", F, "run", ("ns", "fib", "1"), {"total_solutions": 0}),
    ("total_solutions", F, "run", ("ns", "fib", "1"), {"total_solutions": 2**32}),
    ("required_solutions", F, "run", ("ns", "fib", "1"), {"total_solutions": 2, "required_solutions": 3}),
    ("required_solutions", F, "run", ("ns", "fib", "1"), {"required_solutions": 0}),
    ("gas_limit", F, "run", ("ns", "fib", "1"), {"gas_limit": "1000"}),
    ("gas_limit", F, "run", ("ns", "fib", "1"), {"gas_limit": 0}),
    ("gas_limit", F, "run", ("ns", "fib", "1"), {"gas_limit": -5}),
    ("requester_timestamp", F, "run", ("ns", "fib", "1"), {"requester_timestamp": -1}),
    ("requester_timestamp", F, "run", ("ns", "fib", "1"), {"requester_timestamp": 2**32}),
    ("input", F, "run", ("ns", "fib", {1, 2}), {}),
    ("input", F, "run", ("ns", "fib", math.nan), {}),
    ("input", F, "run", ("ns", "fib", b"bytes"), {}),
    ("input", F, "run", ("ns", "fib", "\ud800"), {}),
    ("timeout", F, "run", ("ns", "fib", "1"), {"timeout": -1}),
    ("execution_id", F, "get", ("",), {}),
    ("execution_id", F, "get", ("a/b",), {}),
    ("execution_id", F, "wait", ("..",), {}),
    ("execution_id", A, "get", (" ",), {}),
    ("execution_id", A, "wait", ("id\r\n",), {}),
    ("execution_id", F, "get", (42,), {}),
    ("method", A, "run", ("ns", "t"), {"path": "/x", "method": "FETCH"}),
    ("method", A, "run", ("ns", "t"), {"path": "/x", "method": 7}),
    ("path", A, "run", ("ns", "t"), {"path": "https://evil.example/x"}),
    ("path", A, "run", ("ns", "t"), {"path": "//evil.example/x"}),
    ("path", A, "run", ("ns", "t"), {"path": "relative"}),
    ("path", A, "run", ("ns", "t"), {"path": ""}),
    ("params", A, "run", ("ns", "t"), {"path": "/order/{orderId}"}),
    ("params", A, "run", ("ns", "t"), {"path": "/order/{orderId}", "params": {"id": 1}}),
    ("params", A, "run", ("ns", "t"), {"path": "/x", "params": ["a"]}),
    ("params", A, "run", ("ns", "t"), {"path": "/x", "params": {"a": object()}}),
    ("headers", A, "run", ("ns", "t"), {"path": "/x", "headers": {"Bad Name": "v"}}),
    ("headers", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-Ok\r\nInjected": "v"}}),
    ("headers['X-A']", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-A": "v\r\nX-Evil: 1"}}),
    ("headers['X-A']", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-A": "v\x00"}}),
    ("headers['X-A']", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-A": 5}}),
    ("headers", A, "submit", ("ns", "t"), {"path": "/x", "headers": "Authorization: x"}),
    ("body", A, "run", ("ns", "t"), {"path": "/x", "method": "POST", "body": {"n": math.inf}}),
    ("body", A, "run", ("ns", "t"), {"path": "/x", "method": "POST", "body": object()}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": 0}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": -1}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": timedelta(days=60)}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": "30"}),
    ("concurrency", F, "run_many", ("ns", "fib", ["1"]), {"concurrency": 0}),
    # run_many takes an iterable of inputs, never one string (it would run one task per character)
    ("inputs", F, "run_many", ("ns", "fib", "123"), {}),
    ("inputs", F, "run_many", ("ns", "fib", None), {}),
    ("inputs", F, "run_many", ("ns", "fib", 5), {}),
    ("inputs", F, "run_many", ("ns", "fib", b"12"), {}),
    ("inputs", F, "run_many", ("ns", "fib", {"a": 1}), {}),
    ("calls[0]", A, "run_many", ("ns", "t", ["/x"]), {}),
    ("calls", A, "run_many", ("ns", "t", "/x"), {}),
    # an option shared by every input, invalid for all: raised once, before anything is sent
    ("total_solutions", F, "run_many", ("ns", "fib", ["1", "2"]), {"total_solutions": 0}),
    ("timeout", F, "run_many", ("ns", "fib", ["1", "2"]), {"timeout": -1}),
    ("execution_timeout", A, "run_many", ("ns", "t", [API, API]), {"execution_timeout": 0}),
    ("colour", F, "run_many", ("ns", "fib", ["1"]), {"colour": "red"}),
    ("version", F, "run", ("ns", "fib", "1"), {"version": 2, "label": "stable"}),
    ("version", A, "submit", ("ns", "t"), {"path": "/x", "version": 2, "label": "stable"}),
    ("timeout", F, "wait", ("e1",), {"timeout": "soon"}),
    # run and submit take their options as **options (one TypedDict each): an unknown keyword, or one
    # of run's given to submit, is a typed error like any other, and so is a missing path
    ("colour", F, "run", ("ns", "fib", "1"), {"colour": "red"}),
    ("timeout", F, "submit", ("ns", "fib", "1"), {"timeout": 5}),
    ("on_status", A, "submit", ("ns", "t"), {"path": "/x", "on_status": print}),
    ("path", A, "run", ("ns", "t"), {}),
]


@pytest.mark.parametrize(("field", "namespace", "method", "args", "kwargs"), CASES)
def test_bad_input_is_refused_before_any_io(
    harness: Harness, field: str, namespace: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    tb = harness.client(_untouchable)
    with pytest.raises(ValidationError) as info:
        harness(getattr(getattr(tb, namespace), method)(*args, **kwargs))
    assert info.value.field == field, str(info.value)
    assert field.split("[")[0] in str(info.value)


def test_header_values_never_appear_in_validation_messages(harness: Harness) -> None:
    tb = harness.client(_untouchable)
    with pytest.raises(ValidationError) as info:
        harness(tb.api_tasks.run("ns", "t", path="/x", headers={"Authorization": "Bearer SECRET\r\n"}))
    assert "SECRET" not in str(info.value)


@pytest.mark.parametrize("cls", [Truebit, AsyncTruebit])
def test_client_configuration_is_checked(cls: type[Truebit], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUEBIT_API_KEY", raising=False)
    with pytest.raises(ValidationError, match="base_url"):
        cls(api_key="k", base_url="ftp://x")
    with pytest.raises(ValidationError, match="api_key"):
        cls(api_key="bad\nkey")
    with pytest.raises(ValidationError, match="max_connections"):
        cls(api_key="k", max_connections=0)
    # Policies and URLs are checked at construction, never after a task was submitted.
    for bad in ({"poll": 5}, {"poll": {"initial": 1}}, {"retry": "x"}, {"retry": 3}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            cls(api_key="k", **bad)
    for url in (
        "http://exa mple.com",
        "http://example.com\n",
        "http://",
        "https://u:p@example.com",
        "http://x:99999",
    ):
        with pytest.raises(ValidationError, match="base_url"):
            cls(api_key="k", base_url=url)
    for bad in ({"request_timeout": 0}, {"sync_hold": -1}, {"wait_timeout": "1"}, {"max_response_bytes": 0}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            cls(api_key="k", **bad)
    keyless = cls(base_url="http://127.0.0.1:9")
    with pytest.raises(ValidationError, match="TRUEBIT_API_KEY"):
        call = keyless.functions.run("ns", "fib", "1")
        if inspect.isawaitable(call):
            asyncio.run(call)  # type: ignore[arg-type]


def test_run_many_reports_a_bad_input_in_its_slot_and_runs_the_others(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json={"executionId": "e1", **DONE}))
    results = harness(tb.functions.run_many("ns", "fib", ["1", {1, 2}, "3"]))
    assert isinstance(results[1], ValidationError) and results[1].field == "input"
    assert [getattr(r, "output", None) for r in (results[0], results[2])] == ["8", "8"]
    assert len(harness.requests) == 2
    (missing,) = harness(tb.api_tasks.run_many("ns", "t", [{"method": "GET"}]))
    assert isinstance(missing, ValidationError) and missing.field == "path" and len(harness.requests) == 2


def test_policies_are_type_checked() -> None:
    from truebit_facade import PollPolicy, RetryPolicy

    for bad in ({"initial": "1"}, {"maximum": math.nan}, {"fraction": "0.1"}, {"jitter": 2}):
        with pytest.raises(ValidationError):
            PollPolicy(**bad)
    for bad in ({"attempts": "3"}, {"attempts": 0}, {"attempts": 2.5}, {"base": "2"}, {"initial": -1}):
        with pytest.raises(ValidationError):
            RetryPolicy(**bad)


def test_environment_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUEBIT_API_KEY", "from-env")
    monkeypatch.setenv("TRUEBIT_BASE_URL", "http://127.0.0.1:5/")
    tb = Truebit()
    assert tb.base_url == "http://127.0.0.1:5" and tb.settings.api_key == "from-env"
    assert "from-env" not in repr(tb)
    monkeypatch.delenv("TRUEBIT_BASE_URL")
    assert Truebit().base_url == "https://run.truebit.network"


@pytest.mark.parametrize("name", ["TRUEBIT_BASE_URL", "TRUEBIT_API_KEY"])
@pytest.mark.parametrize("value", ["", "  "])
def test_a_variable_set_but_empty_is_an_error_not_the_default(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    # An unresolved CI secret must not send requests to production or go out without a key silently.
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=f"{name} is set but empty"):
        Truebit()
    assert Truebit(api_key="k", base_url="http://127.0.0.1:5")  # explicit arguments win


@pytest.mark.parametrize("name", ["X-Inject\n", "X\r\n", "X Y", "", "Ünï"])
def test_header_names_are_matched_whole(harness: Harness, name: str) -> None:
    tb = harness.client(lambda r: pytest.fail("touched"))
    with pytest.raises(ValidationError) as info:
        harness(tb.api_tasks.submit("ns", "t", path="/a", headers={name: "v"}))
    assert info.value.field == "headers"


@pytest.mark.parametrize("value", ["a\x85b", "a\u2028b", "a\x7fb", "a\x0bb"])
def test_header_values_refuse_c1_and_unicode_line_breaks(harness: Harness, value: str) -> None:
    tb = harness.client(lambda r: pytest.fail("touched"))
    with pytest.raises(ValidationError):
        harness(tb.api_tasks.submit("ns", "t", path="/a", headers={"X-A": value}))


@pytest.mark.parametrize("key", ["sk-clé-SECRET", "sk-SECRET\u00a0", "\ufeffsk-SECRET", "sk SECRET"])
def test_api_keys_must_be_visible_ascii_and_are_never_echoed(key: str) -> None:
    with pytest.raises(ValidationError) as info:
        Truebit(api_key=key, base_url="http://127.0.0.1:9")
    assert "SECRET" not in str(info.value) and "SECRET" not in repr(info.value.args)


@pytest.mark.parametrize("bad", ["abc", [1], -1, float("nan"), float("inf")])
def test_bad_timeouts_are_validation_errors(harness: Harness, bad: Any) -> None:
    tb = harness.client(lambda r: pytest.fail("touched"))
    with pytest.raises(ValidationError):
        harness(tb.functions.run("ns", "t", "1", timeout=bad))
    with pytest.raises(ValidationError):
        Truebit(api_key="k", wait_timeout=bad)


def test_policy_errors_are_validation_errors() -> None:
    with pytest.raises(ValidationError):
        PollPolicy(initial=3, maximum=1)
    with pytest.raises(ValidationError):
        RetryPolicy(attempts=0)


def test_execution_timeout_accepts_timedelta(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json={"executionId": "a"}))
    harness(tb.api_tasks.submit("ns", "t", path="/x", execution_timeout=timedelta(seconds=1.5)))
    assert json.loads(harness.requests[0].content)["executionTimeout"] == 1500


def test_base_url_must_be_a_plain_http_url() -> None:
    for bad in ("", "http://h?x=1", "http://h#f", "http://u:p@h", "ftp://h"):
        with pytest.raises(ValidationError):
            Truebit(api_key="k", base_url=bad)


_CONTROL_CHARS = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]))


@given(
    st.text(
        alphabet=st.one_of(
            st.characters(codec="utf-8"), st.sampled_from(_CONTROL_CHARS + "\t \u00a0\u200b\ufeff")
        )
    )
)
def test_the_control_character_checks_are_their_patterns(value: str) -> None:
    # The checks skip the pattern for printable text: that must never let a control character by.
    forbidden = set(_CONTROL_CHARS)
    assert check._has_control(value) == any(c in forbidden for c in value)
    assert check._bad_in_header_value(value) == any(c in forbidden - {"\t"} for c in value)
