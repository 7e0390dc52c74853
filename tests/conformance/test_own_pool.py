"""The client's own pool (httpcore's, no httpx.Client above it) keeps what httpx's defaults gave:
TLS verified against the same trust store (``SSL_CERT_FILE``, ``SSL_CERT_DIR``), the environment's
proxies (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``), gzip and deflate answers,
keep-alive, and the same typed errors. Real sockets on 127.0.0.1: an HTTPS server with a certificate
from a throwaway CA (trustme), and a small forwarding / CONNECT proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import http.server
import importlib.util
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from truebit_facade import (
    AsyncTruebit,
    RetryPolicy,
    ServerError,
    TransportError,
    Truebit,
    TruebitError,
)

RUNNING = {"executionId": "e1", "verificationStatus": "Running"}
Answer = tuple[int, dict[str, str], bytes]
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or trust-store setting of the machine leaks into these tests."""
    for name in (*PROXY_VARS, "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return status, {"content-type": "application/json", **(headers or {})}, json.dumps(body).encode()


class Server:
    """An HTTP/1.1 server on 127.0.0.1 (HTTPS with ``tls``) that answers every request with
    ``answer(path)`` and counts the connections it accepted."""

    def __init__(self, answer: Callable[[str], Answer], tls: ssl.SSLContext | None = None) -> None:
        self.connections = 0
        self.paths: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                outer.connections += 1
                super().setup()

            def _answer(self) -> None:
                length = int(self.headers.get("content-length", 0))
                if length:
                    self.rfile.read(length)
                outer.paths.append(self.path)
                status, headers, body = answer(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _read_head(conn: socket.socket) -> bytes | None:
    """What the peer sent up to the end of a request's head (and any bytes after it), or ``None``
    when it closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data


class Proxy:
    """A forwarding proxy on 127.0.0.1: absolute-form requests (``GET http://...``) are passed on in
    origin form, ``CONNECT host:port`` opens a tunnel. ``lines`` records each request line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._stop = threading.Event()

    def __enter__(self) -> Proxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            data = _read_head(conn)
            if data is None:
                return
            line, _, rest = data.partition(b"\r\n")
            method, target, version = line.decode().split(" ")
            self.lines.append(f"{method} {target}")
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                data = rest.partition(b"\r\n\r\n")[2]
            else:
                url = httpx.URL(target)
                upstream = socket.create_connection((url.host, url.port or 80))
                data = f"{method} {url.raw_path.decode()} {version}\r\n".encode() + rest
            with upstream:
                if data:
                    upstream.sendall(data)
                threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()
                _pipe(conn, upstream)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _client(url: str, **options: Any) -> Truebit:
    return Truebit(api_key="k-123456", base_url=url, retry=RetryPolicy.none(), **options)


# --- TLS: the trust store httpx uses ---------------------------------------------------------


def test_https_is_verified_against_ssl_cert_file(
    tls: ssl.SSLContext, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Server(lambda p: _json(RUNNING), tls) as server:
        with _client(server.url) as tb:  # certifi alone does not know this CA
            with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED") as caught:
                tb.functions.get("e1")
            assert not caught.value.may_have_submitted
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        with _client(server.url) as tb:
            assert tb.functions.get("e1").status_value == "Running"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command for a hashed dir")
def test_https_is_verified_against_ssl_cert_dir(
    tls: ssl.SSLContext, ca_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    certs = tmp_path / "certs"
    certs.mkdir()
    shutil.copy(ca_file, certs / f"{digest}.0")
    monkeypatch.setenv("SSL_CERT_DIR", str(certs))
    with Server(lambda p: _json(RUNNING), tls) as server, _client(server.url) as tb:
        assert tb.functions.get("e1").status_value == "Running"


def test_the_async_client_verifies_tls_the_same_way(
    tls: ssl.SSLContext, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def read(url: str) -> str | None:
        async with AsyncTruebit(api_key="k-123456", base_url=url, retry=RetryPolicy.none()) as tb:
            return (await tb.functions.get("e1")).status_value

    with Server(lambda p: _json(RUNNING), tls) as server:
        with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
            asyncio.run(read(server.url))
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        assert asyncio.run(read(server.url)) == "Running"


# --- proxies from the environment ------------------------------------------------------------


def test_http_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    with Server(lambda p: _json(RUNNING)) as server, Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with _client(server.url) as tb:
            assert tb.functions.get("e1").status_value == "Running"
            assert tb._pool().proxy == proxy.url  # type: ignore[union-attr]
    assert proxy.lines == [f"GET {server.url}/task/function/execution-status/e1"]


def test_https_proxy_tunnels_with_connect_and_tls_still_verified(
    tls: ssl.SSLContext, ca_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with Server(lambda p: _json(RUNNING), tls) as server, Proxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the other scheme's proxy is not used
        with _client(server.url) as tb:
            assert tb.functions.get("e1").status_value == "Running"
    assert proxy.lines == [f"CONNECT 127.0.0.1:{server.port}"]


def test_all_proxy_applies_to_both_schemes(monkeypatch: pytest.MonkeyPatch) -> None:
    with Server(lambda p: _json(RUNNING)) as server, Proxy() as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        with _client(server.url) as tb:
            assert tb.functions.get("e1").status_value == "Running"
    assert len(proxy.lines) == 1


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "*", "localhost,127.0.0.1", "http://127.0.0.1"])
def test_no_proxy_sends_straight_to_the_origin(no_proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Server(lambda p: _json(RUNNING)) as server, Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        with _client(server.url) as tb:
            assert tb.functions.get("e1").status_value == "Running"
            assert tb._pool().proxy is None  # type: ignore[union-attr]
    assert proxy.lines == [] and server.paths == ["/task/function/execution-status/e1"]


def test_a_proxy_that_refuses_is_a_transport_error_before_anything_was_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    with (
        Server(lambda p: _json({"executionId": "e1"})) as server,
        _client(server.url) as tb,
        pytest.raises(TransportError) as caught,
    ):
        tb.functions.submit("ns", "fib", "1")
    assert not caught.value.may_have_submitted and server.paths == []  # it went to the proxy


@pytest.mark.parametrize(
    ("proxy", "message"), [("ftp://127.0.0.1:1", "not an http"), ("socks5://127.0.0.1:1", "socksio")]
)
def test_a_proxy_setting_that_cannot_be_used_is_a_typed_error(
    proxy: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if message == "socksio" and importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed here: the SOCKS proxy would be used")
    monkeypatch.setenv("ALL_PROXY", proxy)
    with _client("http://127.0.0.1:9") as tb, pytest.raises(TruebitError, match=message):
        tb.functions.get("e1")


# --- answers: codings, keep-alive, errors ------------------------------------------------------


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_answers_are_read(coding: str) -> None:
    raw = json.dumps({**RUNNING, "pad": "x" * 5000}).encode()
    body = gzip.compress(raw) if coding == "gzip" else zlib.compress(raw)
    answer: Answer = (200, {"content-type": "application/json", "content-encoding": coding}, body)
    with Server(lambda p: answer) as server, _client(server.url) as tb:
        result = tb.functions.get("e1")
    assert result.status_value == "Running" and result.raw["pad"] == "x" * 5000


def test_connections_are_kept_alive_and_reused() -> None:
    with Server(lambda p: _json(RUNNING)) as server, _client(server.url) as tb:
        for _ in range(5):
            assert tb.functions.get("e1").status_value == "Running"
    assert server.connections == 1 and len(server.paths) == 5


def test_requests_fill_the_first_shards_and_past_the_limit_wait_spread_over_all() -> None:
    from truebit_facade._sync_pool import Pool

    pool = Pool("http://127.0.0.1:9", 8, {})  # two shards of 4; nothing connects here
    try:
        taken = [pool._take() for _ in range(20)]
        assert taken[:8] == [0, 0, 0, 0, 1, 1, 1, 1]  # a quiet client keeps to the first connections
        assert pool._free == [-6, -6]  # the 12 beyond the limit wait on both shards alike
        for shard in taken:
            pool._give_back(shard)
        assert pool._free == [4, 4]
    finally:
        pool.close()


def test_a_child_of_fork_opens_its_own_connections_and_the_parent_keeps_its_own() -> None:
    # The pool belongs to the process that opened it; a child must not write to the parent's socket
    # (their requests and answers would interleave). Told by a fork hook, not by os.getpid().
    with Server(lambda p: _json(RUNNING)) as server, _client(server.url) as tb:
        assert tb.functions.get("e1").status_value == "Running"  # the parent's connection is open
        pid = os.fork()
        if pid == 0:  # the child: exit at once, whatever happens, without running the parent's cleanup
            code = 1
            try:
                code = 0 if tb.functions.get("e1").status_value == "Running" else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert tb.functions.get("e1").status_value == "Running"
    assert server.connections == 2 and len(server.paths) == 3  # the parent's one, reused; the child's


@pytest.mark.parametrize("side", ["sync", "async"])
def test_as_many_requests_at_once_as_max_connections_each_get_a_connection(side: str) -> None:
    # The own pool is made of shards (httpcore pools of a few connections each): requests up to
    # max_connections at once must each find a free connection (none waits in a full shard while
    # another has room), and a second wave reuses them.
    width = 7  # shards of 4, 3
    barrier = threading.Barrier(width, timeout=10)

    def answer(path: str) -> Answer:
        barrier.wait()  # every request of a wave is in the server at the same time, or it fails
        return _json(RUNNING)

    def reads_sync(url: str) -> list[str | None]:
        with _client(url, max_connections=width) as tb, ThreadPoolExecutor(width) as threads:
            return [r.status_value for r in threads.map(lambda _: tb.functions.get("e1"), range(2 * width))]

    async def reads_async(url: str) -> list[str | None]:
        async with AsyncTruebit(
            api_key="k-123456", base_url=url, retry=RetryPolicy.none(), max_connections=width
        ) as tb:
            seen = []
            for _ in range(2):
                wave = await asyncio.gather(*(tb.functions.get("e1") for _ in range(width)))
                seen += [r.status_value for r in wave]
            return seen

    with Server(answer) as server:
        seen = reads_sync(server.url) if side == "sync" else asyncio.run(reads_async(server.url))
    assert seen == ["Running"] * 2 * width
    assert server.connections == width


class _ClosesEachConnection:
    """A server on 127.0.0.1 that answers one request per connection and then closes it without
    saying so (no ``Connection: close``), as servers do when their keep-alive expires."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections = 0
        self.closed = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        body = json.dumps(RUNNING).encode()
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed: the test is over
                return
            self.connections += 1
            with conn:
                _read_head(conn)
                conn.sendall(head % len(body) + body)
            self.closed.release()

    def close(self) -> None:
        self._listener.close()


@pytest.mark.parametrize("side", ["sync", "async"])
def test_a_connection_the_server_closed_while_idle_is_not_reused(side: str) -> None:
    # With retries off, a request sent on the dead connection would fail: the pool must see that the
    # idle socket became readable (its end of file) and connect anew.
    server = _ClosesEachConnection()

    async def reads_async() -> list[str | None]:
        async with AsyncTruebit(api_key="k-123456", base_url=server.url, retry=RetryPolicy.none()) as tb:
            seen = []
            for _ in range(3):
                seen.append((await tb.functions.get("e1")).status_value)
                assert server.closed.acquire(timeout=10)
                await asyncio.sleep(0.05)  # the end of file reaches the client's socket
            return seen

    def reads_sync() -> list[str | None]:
        with _client(server.url) as tb:
            seen = []
            for _ in range(3):
                seen.append(tb.functions.get("e1").status_value)
                assert server.closed.acquire(timeout=10)
                threading.Event().wait(0.05)
            return seen

    try:
        seen = asyncio.run(reads_async()) if side == "async" else reads_sync()
    finally:
        server.close()
    assert seen == ["Running"] * 3 and server.connections == 3


def test_the_request_carries_the_client_headers_and_a_json_body() -> None:
    seen: dict[str, Any] = {}

    class Recording(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            seen.update(self.headers.items())
            seen["body"] = json.loads(self.rfile.read(int(self.headers["content-length"])))
            payload = json.dumps({"executionId": "e9"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/prefix"
        with _client(url) as tb:
            assert tb.functions.submit("ns", "fib", "1", extra_headers={"X-Trace": "t1"}).execution_id == "e9"
    finally:
        httpd.shutdown()
        httpd.server_close()
    headers = {k.lower(): v for k, v in seen.items() if k != "body"}
    assert headers["host"] == f"127.0.0.1:{httpd.server_address[1]}"
    assert headers["x-api-key"] == "k-123456" and headers["x-trace"] == "t1"
    assert headers["content-type"] == "application/json" and headers["accept-encoding"] == "gzip, deflate"
    assert headers["user-agent"].startswith("truebit-facade/")
    assert seen["body"]["namespace"] == "ns" and seen["body"]["async"] is True


def test_an_error_answer_carries_an_httpx_response_with_the_decoded_body() -> None:
    body = gzip.compress(json.dumps({"message": "overloaded"}).encode())
    answer: Answer = (
        503,
        {"content-type": "application/json", "content-encoding": "gzip", "x-request-id": "r-7"},
        body,
    )
    with (
        Server(lambda p: answer) as server,
        _client(server.url) as tb,
        pytest.raises(ServerError, match="overloaded") as caught,
    ):
        tb.functions.get("e1")
    response = caught.value.response
    assert isinstance(response, httpx.Response) and response.status_code == 503
    assert response.json() == {"message": "overloaded"} and response.headers["x-request-id"] == "r-7"
    assert "content-encoding" not in response.headers  # the body it holds is the decoded one
    assert "x-api-key" not in response.request.headers  # the request is named, without the key


def test_a_refused_connection_is_a_transport_error_and_the_execute_never_reached_anyone() -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with _client(f"http://127.0.0.1:{port}") as tb, pytest.raises(TransportError) as caught:
        tb.functions.submit("ns", "fib", "1")
    assert not caught.value.may_have_submitted and "ConnectError" in str(caught.value)


def test_the_same_origin_through_a_callers_http_client_gets_the_same_answers() -> None:
    with (
        Server(lambda p: _json(RUNNING, headers={"retry-after": "3"})) as server,
        _client(server.url) as own,
        _client(server.url, http_client=httpx.Client()) as theirs,
    ):
        a, b = own.functions.get("e1"), theirs.functions.get("e1")
    assert (a.status_value, a.raw, dict(a.response.headers)["retry-after"]) == (  # type: ignore[union-attr]
        b.status_value,
        b.raw,
        dict(b.response.headers)["retry-after"],  # type: ignore[union-attr]
    )


def test_a_callers_http_client_keeps_its_hooks_and_headers() -> None:
    seen: list[str] = []

    def hook(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path} {request.headers['x-team']}")

    with (
        Server(lambda p: _json(RUNNING)) as server,
        httpx.Client(headers={"x-team": "blue"}, event_hooks={"request": [hook]}) as http,
        _client(server.url, http_client=http) as tb,
    ):
        assert tb.functions.get("e1").status_value == "Running"
        assert tb.with_options(retry=RetryPolicy.none()).functions.get("e1").status_value == "Running"
        tb.close()
        assert not http.is_closed  # closing the facade leaves the caller's client open
    assert seen == ["GET /task/function/execution-status/e1 blue"] * 2


# --- a caller's httpx.Client: the request is what its build_request would make ----------------


def _as_built(client: httpx.Client, sent: httpx.Request) -> httpx.Request:
    """What ``client.build_request`` makes of the facade's request pieces: the reference the facade's
    own building (merged headers kept between requests) must match."""
    from truebit_facade import __version__

    ours = {
        "user-agent": f"truebit-facade/{__version__}",
        "accept": "application/json",
        "accept-encoding": "gzip, deflate",
        "x-api-key": "k-123456",
    }
    if sent.content:
        ours["content-type"] = "application/json"
    url = sent.url.copy_with(query=None) if sent.url.query else sent.url
    return client.build_request(sent.method, str(url), content=sent.content or None, headers=ours)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"headers": {"x-team": "blue", "Accept": "text/plain", "User-Agent": "theirs"}},
        {"params": {"gateway-key": "g1"}},
        {"cookies": {"session": "s1"}},
    ],
    ids=["defaults", "their-headers", "their-params", "their-cookies"],
)
def test_a_callers_client_sends_what_its_build_request_would(options: dict[str, Any]) -> None:
    sent: list[tuple[httpx.Request, httpx.Request]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request, _as_built(client, request)))  # the reference, as the client is now
        if request.method == "POST":
            return httpx.Response(200, json={"executionId": "e1"})
        return httpx.Response(200, json=RUNNING)

    with httpx.Client(transport=httpx.MockTransport(answer), **options) as client:
        tb = _client("http://api.test/base", http_client=client)
        tb.functions.submit("ns", "fib", "5")
        tb.functions.get("e1")
        client.headers["x-team"] = "red"  # the caller changes its client between requests
        tb.functions.get("e1")
        tb.functions.get("e1", extra_headers={"x-trace": "t1"})
    assert [r.headers.get("x-team") for r, _ in sent][2:] == ["red", "red"]
    assert sent[3][0].headers["x-trace"] == "t1"
    for request, expected in sent[:3]:
        assert (request.method, request.url, request.content) == (
            expected.method,
            expected.url,
            expected.content,
        )
        assert request.headers.multi_items() == expected.headers.multi_items()
        assert set(request.extensions["timeout"]) == {"connect", "read", "write", "pool"}
