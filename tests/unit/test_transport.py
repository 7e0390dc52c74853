"""The driver's pure helpers: bounded decoding of bodies and the one map of transport failures."""

from __future__ import annotations

import gzip
import zlib
from importlib.util import find_spec

import httpcore
import httpx
import pytest

from truebit_facade import TruebitError
from truebit_facade import _network as network
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
        ("gzip", gzip.compress(BODY, mtime=0)),
        ("x-gzip", gzip.compress(BODY, mtime=0)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY)[2:-4]),  # a raw deflate stream, as some servers send
    ],
    ids=["plain", "identity", "gzip", "x-gzip", "zlib", "raw-deflate"],  # the same in every xdist worker
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


@pytest.mark.parametrize(
    ("exc", "reason", "sent"),
    [
        (httpcore.ConnectError("refused"), "connect", False),
        (httpcore.ConnectTimeout("slow"), "connect", False),
        (httpcore.PoolTimeout("busy"), "connect", False),
        (httpcore.UnsupportedProtocol("ftp"), "connect", False),
        (httpcore.ReadTimeout("slow"), "timeout", True),
        (httpcore.WriteTimeout("slow"), "timeout", True),
        (httpcore.RemoteProtocolError("dropped"), "dropped", True),
        (httpcore.LocalProtocolError("bad"), "dropped", True),
        (httpcore.ReadError("reset"), "dropped", True),
        (httpcore.WriteError("reset"), "dropped", True),
        (httpcore.ProxyError("407"), "dropped", True),
    ],
)
def test_httpcore_failures_map_as_httpx_maps_them(exc: BaseException, reason: str, sent: bool) -> None:
    """The own pool's exceptions (httpcore's) mean what httpx's do for the same fault."""
    failure = transport.failure_of(exc)
    assert (failure.reason, failure.sent) == (reason, sent)


ENVIRONMENTS = [
    {},
    {"HTTP_PROXY": "http://p:1"},
    {"HTTPS_PROXY": "p:2"},  # no scheme: http:// is assumed
    {"ALL_PROXY": "http://p:3", "HTTPS_PROXY": "http://p:4"},
    {"ALL_PROXY": "socks5://p:5"},
    {"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"},
    {"HTTPS_PROXY": "http://p:2", "NO_PROXY": "example.com"},
    {"HTTPS_PROXY": "http://p:2", "NO_PROXY": ".example.com"},
    {"HTTPS_PROXY": "http://p:2", "NO_PROXY": "other.org, 10.0.0.7 ,localhost"},
    {"ALL_PROXY": "http://p:3", "NO_PROXY": "::1"},
    {"ALL_PROXY": "http://p:3", "NO_PROXY": "https://api.example.com"},
    {"ALL_PROXY": "http://u:pw@p:3", "NO_PROXY": "http://api.example.com:8080"},
]
URLS = [
    "https://example.com",
    "https://api.example.com/v1",
    "http://api.example.com:8080",
    "https://notexample.com",
    "http://10.0.0.7:8000",
    "http://localhost:8000",
    "http://[::1]:8000",
]


@pytest.mark.parametrize(
    "env", ENVIRONMENTS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()) or "none"
)
def test_the_environment_proxy_is_the_one_httpx_would_use(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # httpx's own (private) logic is the reference: tests may read it, the package may not.
    from httpx._utils import URLPattern, get_environment_proxies

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    mounts = sorted((URLPattern(k), v) for k, v in get_environment_proxies().items())
    for raw in URLS:
        url = httpx.URL(raw)
        expected = next((proxy for pattern, proxy in mounts if pattern.matches(url)), None)
        if expected is not None and expected.startswith("socks") and find_spec("socksio") is None:
            with pytest.raises(TruebitError, match="socksio"):  # httpx would raise ImportError
                network.env_proxy(url)
            continue
        ours = network.env_proxy(url)
        assert (None if ours is None else str(ours.url)) == (
            None if expected is None else str(httpx.Proxy(expected).url)
        ), raw
