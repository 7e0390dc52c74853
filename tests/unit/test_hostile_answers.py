"""Answers a hostile (or broken) server gives, from a real socket server on 127.0.0.1: a secret in
an unknown status value, a huge error message with control characters, headers over h11's bound,
an HTTP error on a status read, and echoes in the HTTP stack's own debug log."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator

import pytest

from tests.support import LoopbackServer
from truebit_facade import (
    MalformedResponseError,
    RetryPolicy,
    ServerError,
    Truebit,
    TruebitError,
    UnknownStatusError,
)

KEY = "sk-hostile-test-key-42"


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[bytes], bytes]], tuple[str, list[bytes]]]]:
    """``serve(answer)``: a server answering each request with ``answer(request)`` (then closing)."""
    servers: list[LoopbackServer] = []

    def start(answer: Callable[[bytes], bytes]) -> tuple[str, list[bytes]]:
        servers.append(LoopbackServer(answer))
        return servers[-1].url, servers[-1].requests

    yield start
    for server in servers:
        server.close()


def _http(status: str, body: bytes, extra: bytes = b"") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + extra + b"\r\n" + body


def test_a_secret_in_an_unknown_status_value_is_in_no_repr(serve) -> None:  # type: ignore[no-untyped-def]
    body = {
        "executionId": "e-1",
        "verificationStatus": "Weird-" + KEY,
        "clearTextSolution": {"output": "1", "executionStatus": "odd-" + KEY},
    }
    url, _ = serve(lambda _: _http("200 OK", json.dumps(body).encode()))
    with Truebit(api_key=KEY, base_url=url) as tb:
        result = tb.functions.get("e-1")
        assert KEY not in repr(result) and not result.status_known
        assert result.raw["verificationStatus"] == "Weird-" + KEY  # the answer as it came, in raw
        with pytest.raises(UnknownStatusError) as caught:
            tb.functions.wait("e-1", timeout=5)
    assert KEY not in repr(caught.value.result) and KEY not in str(caught.value)
    assert KEY not in caught.value.status


def test_an_error_message_is_one_short_line(serve) -> None:  # type: ignore[no-untyped-def]
    message = "boom" + "x" * 100_000 + "\nINFO task e-42 succeeded\x1b[2K"
    url, _ = serve(lambda _: _http("500 X", json.dumps({"message": message}).encode()))
    with (
        Truebit(api_key=KEY, base_url=url, retry=RetryPolicy.none()) as tb,
        pytest.raises(ServerError) as caught,
    ):
        tb.functions.submit("3a2b5129", "fibonacci", "22")
    text = str(caught.value)
    assert len(text) < 600 and "\n" not in text and "\x1b" not in text
    assert caught.value.body == {"message": message}  # the whole of it, where a caller looks for it


def test_headers_over_the_bound_are_a_malformed_answer_read_once(serve) -> None:  # type: ignore[no-untyped-def]
    url, seen = serve(lambda _: _http("200 OK", b"{}", b"X-Big: " + b"a" * (1 << 20) + b"\r\n"))
    with (
        Truebit(api_key=KEY, base_url=url) as tb,
        pytest.raises(MalformedResponseError, match="headers are too large"),
    ):
        tb.functions.get("e-1")
    assert len(seen) == 1  # the same answer would come again: not retried


def test_a_status_read_that_fails_for_good_says_how_to_resume(serve) -> None:  # type: ignore[no-untyped-def]
    def answer(request: bytes) -> bytes:
        if request.startswith(b"POST"):
            return _http("200 OK", b'{"executionId":"e-123456"}')
        return _http("503 Busy", b'{"message":"busy"}')

    url, _ = serve(answer)
    with (
        Truebit(api_key=KEY, base_url=url, retry=RetryPolicy(attempts=2, initial=0.01)) as tb,
        pytest.raises(ServerError) as caught,
    ):
        tb.functions.run("3a2b5129", "fibonacci", "22", timeout=10)
    assert caught.value.execution_id == "e-123456"
    assert "call wait('e-123456') to resume" in str(caught.value)


def test_echoes_in_the_http_stacks_debug_log_are_scrubbed(  # type: ignore[no-untyped-def]
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    answer = _http("500 bad key " + KEY, b"{}", f"X-Echo: {KEY}\r\n".encode())
    url, _ = serve(lambda _: answer)
    with (
        caplog.at_level(logging.DEBUG),
        Truebit(api_key=KEY, base_url=url, retry=RetryPolicy.none()) as tb,
        pytest.raises(TruebitError),
    ):
        tb.functions.submit("3a2b5129", "fibonacci", "22")
    stack = [r for r in caplog.records if r.name.startswith(("httpcore", "httpx"))]
    assert stack, "httpcore logged nothing at DEBUG"
    assert not [r.getMessage() for r in caplog.records if KEY in r.getMessage()]


def test_a_plain_text_error_body_is_one_short_line_too(serve) -> None:  # type: ignore[no-untyped-def]
    body = b"Bad gateway\n\x1b[31mINFO task e-42 succeeded" + b" pad" * 500
    url, _ = serve(lambda _: _http("502 Bad Gateway", body).replace(b"application/json", b"text/plain"))
    with (
        Truebit(api_key=KEY, base_url=url, retry=RetryPolicy.none()) as tb,
        pytest.raises(ServerError) as caught,
    ):
        tb.functions.submit("3a2b5129", "fibonacci", "22")
    text = str(caught.value)
    assert "\n" not in text and "\x1b" not in text and len(text) < 600
    assert "Bad gateway \\x1b[31mINFO" in text


def test_a_status_read_refused_for_good_does_not_suggest_waiting(serve) -> None:  # type: ignore[no-untyped-def]
    url, _ = serve(lambda _: _http("401 Unauthorized", b'{"message":"bad key"}'))
    with Truebit(api_key=KEY, base_url=url) as tb, pytest.raises(TruebitError) as caught:
        tb.functions.get("e-1")
    assert "wait(" not in str(caught.value)


def test_an_unreadable_status_answer_says_how_to_resume(serve) -> None:  # type: ignore[no-untyped-def]
    url, _ = serve(lambda _: _http("200 OK", b"{}", b"X-Big: " + b"a" * (1 << 20) + b"\r\n"))
    with Truebit(api_key=KEY, base_url=url) as tb, pytest.raises(MalformedResponseError) as caught:
        tb.functions.get("e-1")
    assert "call wait('e-1') to resume" in str(caught.value)


def test_the_log_filter_scrubs_a_bytes_repr_and_never_raises() -> None:
    from truebit_facade._redact import SecretBook, _EchoFilter, _watch_stack_logs

    book = SecretBook(KEY)
    book.remember(["pässwört-123"])
    _watch_stack_logs(book)
    stack = logging.getLogger("httpcore.http11")
    (echoes,) = [f for f in stack.filters if isinstance(f, _EchoFilter)]
    value = (b"HTTP/1.1", 500, [(b"X-Echo", "pässwört-123".encode())])
    record = logging.LogRecord(
        "httpcore.http11", logging.DEBUG, __file__, 1, "return_value=%r", (value,), None
    )
    assert (
        echoes.filter(record)
        and "pässwört" not in record.getMessage()
        and "p\\xc3\\xa4ss" not in record.getMessage()
    )
    broken = logging.LogRecord("httpcore.http11", logging.DEBUG, __file__, 1, "%d", ("not a number",), None)
    assert echoes.filter(broken) is False  # unreadable: dropped, not raised into the caller


def test_the_log_filter_holds_while_clients_come_and_go_in_other_threads() -> None:
    from truebit_facade._redact import SecretBook, _EchoFilter, _watch_stack_logs

    _watch_stack_logs(SecretBook(KEY))
    (echoes,) = [f for f in logging.getLogger("httpcore.http11").filters if isinstance(f, _EchoFilter)]
    errors: list[BaseException] = []
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            SecretBook(f"key-{threading.get_ident()}")  # made and dropped: the weak set changes

    threads = [threading.Thread(target=churn) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(20_000):
            record = logging.LogRecord(
                "httpcore.http11", logging.DEBUG, __file__, 1, f"{KEY} {i}", None, None
            )
            try:
                echoes.filter(record)
            except BaseException as exc:
                errors.append(exc)
                break
            assert KEY not in record.getMessage()
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
