"""No header value at rest in any encoding: a target of our own (Starlette on 127.0.0.1) echoes the
headers an API task injects in JSON, text and binary bodies, and also percent-encoded, hex and
base64-encoded; the batch's ledger and its WAL file are then scanned for every one of those forms."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from truebit_facade import Truebit, scrub_secrets, to_builtin
from truebit_facade.batch import Batch, BatchItem
from truebit_facade.batch._secrets import _may_hold, _walk, scrub_stored
from truebit_facade.sandbox import Sandbox, SandboxConfig, default_registry
from truebit_facade.sandbox._server import ThreadedServer

NS = "mine"
SHARED, OWN = "Shared+Secret/Value=0001", "own-sécret-ключ-0002"


def _encoded(value: str) -> list[str]:
    raw = value.encode()
    return [
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        raw.hex(),
        base64.b64encode(raw).decode(),
        base64.b64encode(b"Basic " + raw).decode(),  # inside a longer base64 text, another alignment
        base64.b64encode(b"u:" + raw).decode(),
    ]


def _echo(request: Request) -> Response:
    secrets = [v for k, v in request.headers.items() if k.startswith("x-")]
    form = request.path_params["form"]
    if form == "json":
        return JSONResponse({"headers": dict(request.headers), "list": secrets})
    if form == "text":
        return PlainTextResponse("received: " + " | ".join(secrets))
    if form == "binary":
        body = b"\xff\xfe\x00" + b"\x00".join(s.encode() for s in secrets) + b"\xff"
        body += b"".join(s.encode("latin-1", "ignore") for s in secrets)
        return Response(body, media_type="application/octet-stream")
    encoded = [form for s in secrets for form in _encoded(s)]
    if form == "encoded-binary":
        return Response(b"\xff" + " ".join(encoded).encode() + b"\xfe", media_type="application/octet-stream")
    return PlainTextResponse(" ".join(encoded))


FORMS = ["json", "text", "binary", "encoded", "encoded-binary"]


@pytest.fixture
def echo_target() -> Iterator[str]:
    server = ThreadedServer("127.0.0.1", 0, graceful_seconds=1)
    server.start(Starlette(routes=[Route("/echo/{form}", _echo)]), "echo-target")
    try:
        yield server.url
    finally:
        server.stop()


def _manifest(url: str) -> dict[str, Any]:
    parameter = {"name": "form", "in": "path", "required": True, "schema": {"type": "string"}}
    operation = {
        "operationId": "echo",
        "parameters": [parameter],
        "responses": {"200": {"description": "ok"}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "echo", "version": "1"},
        "servers": [{"url": url}],
        "paths": {"/echo/{form}": {"get": operation}},
    }


@pytest.fixture
def truebit_sandbox_config() -> SandboxConfig:
    return SandboxConfig(hold_seconds=1)


@pytest.fixture
def truebit_sandbox_registry(echo_target: str) -> Any:
    registry = default_registry()
    registry.add_api_task(NS, "echo", _manifest(echo_target))
    return registry


@pytest.mark.timeout(120)
def test_no_header_value_at_rest_in_any_encoding(truebit_sandbox: Sandbox, ledger_path: Path) -> None:
    sb = truebit_sandbox
    calls = [
        BatchItem(f"{form}-shared", {"path": "/echo/{form}", "params": {"form": form}}) for form in FORMS
    ]
    calls += [
        BatchItem(
            f"{form}-own", {"path": "/echo/{form}", "params": {"form": form}, "headers": {"X-Own": OWN}}
        )
        for form in FORMS
    ]
    with Truebit(api_key=sb.api_key, base_url=sb.url) as tb, Batch(tb, ledger_path) as batch:
        summary = batch.run_api_tasks(NS, "echo", calls, headers={"X-Shared": SHARED})
        rows = {row.key: row for row in batch.results()}
        # While the ledger is open its WAL file holds the last commits: scanned too.
        assert any(p.name.endswith("-wal") for p in ledger_path.parent.iterdir())
        open_files = b"".join(p.read_bytes() for p in ledger_path.parent.iterdir() if p.is_file())
    assert summary.finished_ok == len(calls), [r.error for r in rows.values()]
    assert "base64" in rows["binary-own"].output  # the binary answer was kept, scrubbed
    assert "[REDACTED]" in rows["text-own"].output["text"]
    stored = open_files + b"".join(p.read_bytes() for p in ledger_path.parent.iterdir() if p.is_file())
    for secret in (SHARED, OWN, sb.api_key):
        for form in [secret, *_encoded(secret)]:
            assert form.encode() not in stored, form
        assert secret.encode("latin-1", "ignore") not in stored or not secret.isascii()
        assert secret.encode("utf-16-le") not in stored
    # The binary body, decoded from the ledger: no secret inside either.
    for key in ("binary-own", "encoded-binary-own"):
        data = base64.b64decode(rows[key].output["base64"])
        for secret in (SHARED, OWN):
            assert secret.encode() not in data and binascii.hexlify(secret.encode()) not in data


def test_scrubbing_covers_every_alignment_of_base64_and_keeps_other_data() -> None:
    secret = "abcdefghij-secret"
    for prefix in ("", "x", "xy", "xyz"):
        blob = base64.b64encode((prefix + secret + "tail").encode()).decode()
        assert (
            base64.b64encode(secret.encode()).decode()[:8]
            not in scrub_stored({"t": blob}, (secret,))["t"][4:]
        )
    data = {"n": 1, "ok": True, "text": "nothing to see", "base64": base64.b64encode(b"\xff plain").decode()}
    assert scrub_stored(data, (secret,)) == data


def test_an_answer_without_a_plain_secret_is_kept_as_is_and_one_with_it_in_any_encoding_is_not() -> None:
    # Printable ASCII secrets (most API keys and tokens) have no other spelling for the client's
    # scrubber: an answer holding none of their forms is stored as it came, without the walk.
    secret, short = "PlainSecretValue0003", "42"
    answer = {"output": {"items": ["a", {"k": "v"}], "n": 3, "x": None}, "status": "ok"}
    assert scrub_stored(answer, (secret, short)) is answer
    for form in [secret, *_encoded(secret)]:
        for where in ({"output": form}, {"output": [1, {"deep": f"<{form}>"}]}, {form: 1}, form):
            stored = repr(scrub_stored(where, (secret,)))
            assert form not in stored, (form, stored)
    assert scrub_stored({"a": "42", "b": "142"}, (secret, short)) == {"a": "[REDACTED]", "b": "142"}


_PLAIN = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\/'),
    min_size=1,
    max_size=12,
)


@st.composite
def _answer_and_secrets(draw: st.DrawFn) -> tuple[Any, tuple[str, ...]]:
    secrets = tuple(draw(st.lists(_PLAIN, min_size=1, max_size=3, unique=True)))
    pieces = st.sampled_from(
        [*secrets, *(f for s in secrets for f in _encoded(s)), "x", "\n", "é", '"', "\\"]
    )
    # A string that is a secret (or one of its forms) whole, or one that holds some among other text.
    texts = st.one_of(pieces, st.lists(st.one_of(pieces, st.text(max_size=4)), max_size=4).map("".join))
    values = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), texts),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
        max_leaves=12,
    )
    return draw(values), secrets


@given(_answer_and_secrets())
@example(({"a": "ab"}, ("ab",)))  # a short secret, whole: it has no form long enough to search for
@example(({"ab": 1}, ("ab",)))
@example(({"n": 3432, "s": "x"}, ("42",)))  # its hex form in a number: a false alarm, not a leak
def test_an_answer_is_kept_as_it_came_only_when_scrubbing_would_not_change_it(
    case: tuple[Any, tuple[str, ...]],
) -> None:
    # The quick check that lets most answers skip the walk must never let one with a secret by.
    value, secrets = case
    walked = _walk(scrub_secrets(to_builtin(value), secrets), secrets)
    if walked != value:
        assert _may_hold(value, secrets), (value, secrets)
    assert scrub_stored(value, secrets) == walked
