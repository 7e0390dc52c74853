"""What only I/O can do, for both drivers and both kinds of pool: the body size bound (bounded
decoding), and the one mapping of transport exceptions, httpx's and httpcore's, to the flow's
:class:`~._flow.Failure`. The wall-clock bound of one attempt is in ``_bound`` (and the backends).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Final

import httpx

from ._flow import Failure

__all__ = ["ACCEPT_ENCODING", "BodyTooLarge", "BoundedDecoder", "failure_of", "too_large"]


class BodyTooLarge(Exception):
    pass


def failure_of(exc: BaseException) -> Failure:
    """The one place that says what a transport exception (httpx's or httpcore's) means for the call."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, BodyTooLarge):
        return Failure("too_large", sent=True, detail=str(exc))
    if _HEADERS_TOO_LARGE in str(exc):  # h11's bound on the status line and headers: the same again
        return Failure("too_large", sent=True, detail=f"the answer's headers are too large ({detail})")
    connect, timeout, transport = _httpcore_kinds() if _from_httpcore(exc) else _HTTPX_KINDS
    if isinstance(exc, connect):
        return Failure("connect", sent=False, detail=detail)  # nothing left this machine
    if isinstance(exc, timeout):
        return Failure("timeout", sent=True, detail=detail)
    if isinstance(exc, transport):
        return Failure("dropped", sent=True, detail=detail)
    return Failure("unreadable", sent=True, detail=detail)  # bad gzip, redirects, too many headers


#: What h11 (under httpx and httpcore) says of a status line and headers over its size bound.
_HEADERS_TOO_LARGE: Final = "Receive buffer too long"

_Kinds = tuple[tuple[type[BaseException], ...], type[BaseException], tuple[type[BaseException], ...]]
_HTTPX_KINDS: Final[_Kinds] = (
    (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol),
    httpx.TimeoutException,
    (httpx.TransportError,),
)


def _from_httpcore(exc: BaseException) -> bool:
    return type(exc).__module__.partition(".")[0] == "httpcore"


def _httpcore_kinds() -> _Kinds:
    # httpcore is imported only with a pool (it is not imported with the package).
    import httpcore

    return (
        (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.PoolTimeout, httpcore.UnsupportedProtocol),
        httpcore.TimeoutException,
        (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError),
    )


#: What the drivers ask for: the two codings whose decompression can be bounded here.
ACCEPT_ENCODING: Final = "gzip, deflate"


class BoundedDecoder:
    """The body as the peer encoded it, decoded with a bound on the *decoded* size.

    httpx decodes each received chunk whole, so one 64 KiB chunk of a gzip bomb becomes 64 MiB before
    anyone can count it; here each chunk is inflated with ``max_length`` set to the room left.
    ``headers`` are the answer's (looked up by lower-case name)."""

    def __init__(self, headers: Mapping[str, str], limit: int) -> None:
        encoding = headers.get("content-encoding")
        if not encoding:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise too_large(limit)
            codings: list[str] = []
        else:
            codings = [c for c in (c.strip().lower() for c in encoding.split(",")) if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise httpx.DecodingError(f"unsupported content-encoding {', '.join(codings)!r}")
        self._coding = codings[0] if codings else None
        self._inflate = None if self._coding is None else zlib.decompressobj(_WBITS[self._coding])
        self._limit, self._size, self._first = limit, 0, True

    def feed(self, data: bytes) -> bytes:
        if self._inflate is not None:
            try:
                out = self._inflate.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                if not (self._first and self._coding == "deflate"):
                    raise httpx.DecodingError(f"invalid {self._coding} data: {exc}") from None
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)  # a raw deflate stream
                out = self._inflate.decompress(data, self._limit - self._size + 1)
            if self._inflate.unconsumed_tail:  # the output stopped at the bound: there is more
                raise too_large(self._limit)
        else:
            out = data
        self._first = False
        self._size += len(out)
        if self._size > self._limit:
            raise too_large(self._limit)
        return out

    def flush(self) -> bytes:
        return b"" if self._inflate is None else self.feed(b"") + self._inflate.flush()


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the answer is larger than the {limit} bytes allowed (max_response_bytes)")
