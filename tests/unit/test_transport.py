"""The driver's pure helpers: bounded decoding of bodies and the one map of transport failures."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from truebit_facade import _transport as transport

BODY = b'{"executionId": "e1", "verificationStatus": "Success"}' * 50


def _response(encoding: str | None, length: int | None = None) -> dict[str, str]:
    headers = {} if encoding is None else {"content-encoding": encoding}
    if length is not None:
        headers["content-length"] = str(length)
    return headers


def _decode(encoding: str | None, data: bytes, limit: int = 1 << 20, chunk: int = 7) -> bytes:
    decoder = transport.BoundedDecoder(_response(encoding), limit)
    parts = [decoder.feed(data[i : i + chunk]) for i in range(0, len(data), chunk)]
    return b"".join(parts) + decoder.flush()


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        (None, BODY),
        ("identity", BODY),
        ("gzip", gzip.compress(BODY)),
        ("x-gzip", gzip.compress(BODY)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY)[2:-4]),  # a raw deflate stream, as some servers send
    ],
)
def test_bodies_decode_whole(encoding: str | None, data: bytes) -> None:
    assert _decode(encoding, data) == BODY


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
def test_the_decoded_size_is_bounded_whatever_the_coding(encoding: str | None) -> None:
    data = {None: BODY, "gzip": gzip.compress(BODY), "deflate": zlib.compress(BODY)}[encoding]
    with pytest.raises(transport.BodyTooLarge):
        _decode(encoding, data, limit=len(BODY) - 1)
    assert _decode(encoding, data, limit=len(BODY)) == BODY  # exactly at the bound is fine


def test_a_declared_length_over_the_bound_is_refused_before_reading() -> None:
    with pytest.raises(transport.BodyTooLarge):
        transport.BoundedDecoder(_response(None, length=101), 100)


@pytest.mark.parametrize("encoding", ["br", "gzip, gzip", "compress"])
def test_codings_that_cannot_be_bounded_are_unreadable(encoding: str) -> None:
    with pytest.raises(httpx.DecodingError):
        transport.BoundedDecoder(_response(encoding), 100)


@pytest.mark.parametrize(
    ("exc", "reason", "sent"),
    [
        (httpx.ConnectError("refused"), "connect", False),
        (httpx.ConnectTimeout("slow"), "connect", False),
        (httpx.PoolTimeout("busy"), "connect", False),
        (httpx.ReadTimeout("slow"), "timeout", True),
        (httpx.WriteTimeout("slow"), "timeout", True),
        (httpx.RemoteProtocolError("dropped"), "dropped", True),
        (httpx.ReadError("reset"), "dropped", True),
        (httpx.DecodingError("bad gzip"), "unreadable", True),
        (transport.BodyTooLarge("big"), "too_large", True),
    ],
)
def test_every_transport_failure_says_whether_the_request_may_have_left(
    exc: BaseException, reason: str, sent: bool
) -> None:
    failure = transport.failure_of(exc)
    assert (failure.reason, failure.sent) == (reason, sent)
