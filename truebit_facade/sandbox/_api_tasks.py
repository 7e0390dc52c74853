"""API tasks: what one is (a manifest and credentials), how its call is made, and what the API answers.

**Credentials** (:class:`ApiCredentials`) are configured per task, as on the platform: custom headers
and/or HTTP basic auth. They are injected into every outgoing call, win over ``input.headers`` of the
same name, and never appear in a response, a stored request, a log line or an error message (their
``repr`` is redacted too).

**The call** (:func:`call_target`) is sent straight to the dispatcher's shared
``httpx.AsyncHTTPTransport`` (:func:`new_transport`), with no ``httpx.AsyncClient`` around it: so
redirects are not followed, proxies and ``.netrc`` from the environment are ignored, and there is no
cookie handling at all (a client's cookie jar copies every request's headers into a ``urllib``
request per response, quadratic in their number: 20,000 headers blocked the event loop 8 s), and
nothing of the caller's own request (its ``x-api-key`` in particular) is forwarded: the outgoing headers
are httpx's defaults, a ``User-Agent: truebit-sandbox``, the ``Content-Type`` of the declared body,
``input.headers``, then the credentials. The whole call (connect, send, receive) is bounded by
``executionTimeout`` (milliseconds on the wire), itself capped by the sandbox's
``max_execution_timeout_seconds``; the response by ``max_api_response_bytes``. How many headers and
how long a path or a parameter may be is bounded before any of this (``_bounds``).

**Secrets** are scrubbed with the client's one scrubber (``truebit_facade.rules``, from ``_redact``: the same
spellings, JSON escapes and latin-1/UTF-8 re-encodings), from the output and the error message.

**The answer** is the spec's ``ExecuteApiSyncResponse``:

* ``clearTextSolution.output`` is the target's JSON body when it is an object (nested at most
  ``MAX_JSON_DEPTH`` levels; deeper, it comes back as text); otherwise a wrapper:
  ``{"statusCode": 200, "contentType": "...", "json": [...]}`` for other JSON values,
  ``{"statusCode", "contentType", "text"}`` for text (any body that decodes as UTF-8, or as the declared
  charset), ``{"statusCode", "contentType", "base64"}`` for other bytes; ``{}`` when no response came.
* ``status`` ``Success`` and ``clearTextSolution.status`` ``succeed`` when the target answered below 400;
  ``Error``/``failed`` with an ``errorMsg`` saying why when it answered 400 or more, timed out, refused
  the connection or broke it.
* ``clearTextSolution.senderAddress`` is the sandbox hub's address (see ``_nodes``).
* ``totalTransferredBytes``: ``request`` is the bytes of the request line, the header lines (with the
  blank line) and the body as sent (HTTP/1.1, counted from what httpx hands to the connection: exact for
  a body sent whole, as here); ``response`` the bytes of the status line, the header lines and the body
  as received (before decompression; chunked-encoding framing is not counted). Parts never sent or
  received count 0.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .. import ApiTaskStatus, ValidationError
from ..rules import REDACTED, scrub, scrub_json
from ..rules import check_headers as checked_headers
from ._manifest import Manifest, PreparedCall
from ._validation import MAX_JSON_DEPTH, RESERVED_HEADERS

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ApiCredentials",
    "ApiOutcome",
    "ApiTask",
    "api_response_body",
    "call_target",
    "new_transport",
]

USER_AGENT = "truebit-sandbox"


@dataclass(frozen=True, repr=False)
class ApiCredentials:
    """Credentials of an API task, injected into every call it makes.

    ``header``: custom headers, e.g. ``{"X-Target-Key": "..."}``; ``basic``: ``(user, password)`` sent
    as ``Authorization: Basic ...``. Both may be given. ``repr`` shows header names only.
    """

    header: Mapping[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        try:  # the client's rules for header names and values (its messages never show a value)
            headers = checked_headers(dict(self.header))
        except ValidationError as exc:
            raise ValueError(f"credentials: {exc}") from None
        for name in headers:
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"the credential header {name!r} is set by the sandbox")
        if len({n.lower() for n in headers}) != len(headers):
            raise ValueError("credential header names must differ (case-insensitively)")
        if self.basic is not None:
            if len(self.basic) != 2 or not all(isinstance(p, str) for p in self.basic):
                raise ValueError("basic must be (user, password)")
            user, password = self.basic
            try:  # the header-value rule: both go into the Authorization header
                checked_headers({"user": user, "password": password}, "basic")
            except ValidationError:
                raise ValueError(
                    "the basic-auth user and password must not contain control characters"
                ) from None
            if ":" in user:
                raise ValueError("the basic-auth user must not contain ':' or control characters")
            if any(n.lower() == "authorization" for n in headers):
                raise ValueError("give either basic or an Authorization credential header, not both")
            object.__setattr__(self, "basic", (user, password))
        object.__setattr__(self, "header", headers)

    def __repr__(self) -> str:
        basic = f"({REDACTED!r}, {REDACTED!r})" if self.basic else "None"
        return f"ApiCredentials(header={ {name: REDACTED for name in self.header} }, basic={basic})"

    __str__ = __repr__

    def headers(self) -> dict[str, str]:
        """The headers to inject."""
        out = dict(self.header)
        if self.basic is not None:
            token = base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode("ascii")
            out["Authorization"] = f"Basic {token}"
        return out

    def secrets(self) -> list[str]:
        """Every secret string these credentials carry (to scrub from messages)."""
        values = list(self.header.values())
        if self.basic is not None:
            authorization = self.headers()["Authorization"]
            values += [self.basic[1], f"{self.basic[0]}:{self.basic[1]}", authorization, authorization[6:]]
        return values


@dataclass(frozen=True, eq=False)
class ApiTask:
    """One registered version of an API task: its manifest and credentials.

    ``task_id`` is ``api_`` and the SHA-256 of the canonical manifest JSON, shaped like the platform's.
    """

    kind: ClassVar[str] = "api"

    namespace: str
    name: str
    version: int
    manifest: Manifest
    task_id: str
    credentials: ApiCredentials | None = field(default=None, repr=False)
    description: str = ""

    def credential_headers(self) -> dict[str, str]:
        return {} if self.credentials is None else self.credentials.headers()

    def secrets(self) -> list[str]:
        return [] if self.credentials is None else self.credentials.secrets()


@dataclass(frozen=True)
class ApiOutcome:
    """What one call gave: the ``output`` object, success, why not, and the bytes exchanged."""

    output: dict[str, Any]
    succeeded: bool
    error: str | None
    request_bytes: int
    response_bytes: int
    status_code: int | None = None


def api_response_body(execution_id: str, outcome: ApiOutcome, sender_address: str) -> dict[str, Any]:
    """The spec's ``ExecuteApiSyncResponse`` for a finished execution."""
    body: dict[str, Any] = {
        "executionId": execution_id,
        "clearTextSolution": {
            "output": outcome.output,
            "status": "succeed" if outcome.succeeded else "failed",
            "senderAddress": sender_address,
        },
        "status": ApiTaskStatus.SUCCESS if outcome.succeeded else ApiTaskStatus.ERROR,
        "totalTransferredBytes": {"request": outcome.request_bytes, "response": outcome.response_bytes},
    }
    if outcome.error is not None:
        body["errorMsg"] = outcome.error
    return body


def outgoing_headers(task: ApiTask, call: PreparedCall) -> list[tuple[bytes, bytes]]:
    """The headers of the outgoing call, in order; credentials override input headers of their names."""
    merged: dict[str, tuple[str, str]] = {
        "accept": ("Accept", "*/*"),  # what an httpx client would add, kept so targets see the same
        "accept-encoding": ("Accept-Encoding", "gzip, deflate"),
        "connection": ("Connection", "keep-alive"),
        "user-agent": ("User-Agent", USER_AGENT),
    }
    if call.content_type is not None:
        merged["content-type"] = ("Content-Type", call.content_type)
    for source in (call.headers, task.credential_headers()):
        for name, value in source.items():
            merged[name.lower()] = (name, value)
    return [(name.encode("ascii"), value.encode("utf-8")) for name, value in merged.values()]


def _head_size(first_line: bytes, headers: Iterable[tuple[bytes, bytes]]) -> int:
    return len(first_line) + 2 + sum(len(name) + len(value) + 4 for name, value in headers) + 2


def _output(status: int, content_type: str, data: bytes) -> dict[str, Any]:
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            value = _NOT_JSON
        if value is not _NOT_JSON and _too_deep(value):  # kept as text: scrubbing recurses
            value = _NOT_JSON
        if isinstance(value, dict):
            return value
        if value is not _NOT_JSON:
            return {"statusCode": status, "contentType": content_type, "json": value}
    match = re.search(r"charset=\"?([\w.:-]+)", content_type, re.IGNORECASE)
    charset = match.group(1) if match else "utf-8"
    try:
        text = data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return {"statusCode": status, "contentType": content_type, "base64": base64.b64encode(data).decode()}
    return {"statusCode": status, "contentType": content_type, "text": text}


_NOT_JSON = object()


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            if level > MAX_JSON_DEPTH:
                return True
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def new_transport() -> httpx.AsyncHTTPTransport:
    """The transport API calls go through: a bounded pool, no environment (proxies, ``.netrc``)."""
    import httpx

    return httpx.AsyncHTTPTransport(
        trust_env=False, limits=httpx.Limits(max_connections=64, max_keepalive_connections=16)
    )


async def call_target(
    transport: httpx.AsyncHTTPTransport,
    task: ApiTask,
    call: PreparedCall,
    *,
    timeout_seconds: float,
    max_response_bytes: int,
) -> ApiOutcome:
    """Make the call and describe what happened (never raises for what the target or network does).

    The error message is scrubbed of every credential and ``input.headers`` value.
    """
    request, request_bytes = _request(task, call, timeout_seconds)
    outcome = await _send(transport, request, request_bytes, timeout_seconds, max_response_bytes)
    found = {s for s in (*task.secrets(), *call.headers.values()) if s}
    secrets = tuple(sorted(found, key=len, reverse=True))  # longest first: a secret inside another
    # A target that echoes its request (as the example's /anything does) must not hand the task's
    # credentials, or the caller's injected headers, to whoever reads the execution's status.
    output = scrub_json(outcome.output, secrets)
    error = None if outcome.error is None else scrub(outcome.error, secrets)
    return dataclasses.replace(outcome, output=output, error=error)


def _request(
    task: ApiTask, call: PreparedCall, timeout_seconds: float
) -> tuple[httpx.Request, Callable[[], int]]:
    """The request for ``call``, and what counts its bytes sent so far (the head and the body, each
    once httpcore's trace says it went out)."""
    import httpx

    sent = {"headers": False, "body": False}

    async def trace(event: str, info: Mapping[str, Any]) -> None:
        if event == "http11.send_request_headers.complete":
            sent["headers"] = True
        elif event == "http11.send_request_body.complete":
            sent["body"] = True

    request = httpx.Request(
        call.method,
        call.url,
        headers=outgoing_headers(task, call),
        content=call.content,
        extensions={"trace": trace, "timeout": httpx.Timeout(timeout_seconds).as_dict()},
    )
    head = _head_size(
        request.method.encode() + b" " + request.url.raw_path + b" HTTP/1.1", request.headers.raw
    )
    body_size = len(call.content or b"")

    def request_bytes() -> int:
        return (head if sent["headers"] else 0) + (body_size if sent["body"] else 0)

    return request, request_bytes


async def _send(
    transport: httpx.AsyncHTTPTransport,
    request: httpx.Request,
    request_bytes: Callable[[], int],
    timeout_seconds: float,
    max_response_bytes: int,
) -> ApiOutcome:
    import httpx

    millis = round(timeout_seconds * 1000)
    response: httpx.Response | None = None
    received = 0
    try:
        async with asyncio.timeout(timeout_seconds):
            response = await transport.handle_async_request(request)
            try:
                reason = response.reason_phrase.encode("ascii", "replace")
                received = _head_size(
                    b"HTTP/1.1 %d %s" % (response.status_code, reason), response.headers.raw
                )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_response_bytes:
                        return ApiOutcome(
                            {},
                            False,
                            f"the target's response is larger than {max_response_bytes} bytes",
                            request_bytes(),
                            received + response.num_bytes_downloaded,
                            response.status_code,
                        )
                    chunks.append(chunk)
                received += response.num_bytes_downloaded
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        downloaded = response.num_bytes_downloaded if response is not None else 0
        message = f"the target did not answer within {millis} ms (executionTimeout)"
        return ApiOutcome({}, False, message, request_bytes(), received + downloaded, None)
    except httpx.ConnectError as exc:
        where = f"{request.url.host}:{request.url.port or (443 if request.url.scheme == 'https' else 80)}"
        message = f"cannot connect to the target at {where} ({type(exc).__name__})"
        return ApiOutcome({}, False, message, 0, 0, None)
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        message = f"the target broke the connection before a complete answer ({type(exc).__name__})"
        return ApiOutcome({}, False, message, request_bytes(), received, None)
    except httpx.HTTPError as exc:
        message = f"the call to the target failed ({type(exc).__name__})"
        return ApiOutcome({}, False, message, request_bytes(), received, None)
    data = b"".join(chunks)
    status = response.status_code
    output = _output(status, response.headers.get("content-type", ""), data)
    error = None
    if status >= 400:
        error = f"the target answered HTTP {status} {response.reason_phrase}".rstrip()
    return ApiOutcome(output, status < 400, error, request_bytes(), received, status)
