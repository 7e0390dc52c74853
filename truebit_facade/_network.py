"""What the client's own pool is made of, decided once per pool: the origin, the trust store, the
proxy, the keep-alive limits; and the two conversions of an answer (its headers, and the
``httpx.Response`` an error carries). Shared by the blocking and the asyncio pool, through public
names of httpx and httpcore only.

Everything a user got from httpx's defaults stays the same here:

* TLS is verified against the trust store httpx uses (``httpx.create_ssl_context()``: certifi, or
  ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set).
* The proxy is the one httpx would pick from the environment (``HTTPS_PROXY``, ``HTTP_PROXY``,
  ``ALL_PROXY``, ``NO_PROXY``; on macOS and Windows the system settings, as ``urllib`` reads them),
  served by httpcore's own proxy pools (``HTTPProxy``; ``SOCKSProxy`` with the ``socksio`` package,
  as httpx needs it too). The client talks to one origin, so the choice is made once.
* Keep-alive: up to ``max_connections`` idle connections, each kept 5 s (httpx's ``Limits``).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from ._errors import TruebitError

__all__ = ["KEEPALIVE_EXPIRY", "Origin", "answer_headers", "env_proxy", "error_response", "ssl_context"]

#: Seconds an idle connection is kept for reuse: httpx's default.
KEEPALIVE_EXPIRY: Final = 5.0


@dataclass(frozen=True)
class Origin:
    """The base URL taken apart once: what every request's URL is made of."""

    url: httpx.URL
    scheme: bytes
    host: bytes
    port: int | None
    prefix: bytes  # the base URL's own path, without its trailing slash

    @classmethod
    def of(cls, base_url: str) -> Origin:
        url = httpx.URL(base_url)
        return cls(url, url.raw_scheme, url.raw_host, url.port, url.raw_path.rstrip(b"/"))

    def target(self, path: str) -> bytes:
        return self.prefix + path.encode("ascii")


def ssl_context() -> Any:
    """The context httpx makes by default (certifi, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``)."""
    return httpx.create_ssl_context()


# --- the environment's proxy, as httpx reads it --------------------------------------------


def env_proxy(url: httpx.URL) -> httpx.Proxy | None:
    """The proxy httpx (``trust_env=True``) would send a request to ``url`` through, or ``None``.

    The same rules as httpx 0.28, written with public names: ``{http,https,all}_proxy`` give one
    pattern per scheme; each ``NO_PROXY`` entry gives a pattern that maps to no proxy (``*`` turns
    proxies off); the most specific pattern that matches wins (a port, then a longer host, then a
    scheme)."""
    found = getproxies()
    patterns: list[tuple[str, str | None]] = []
    for scheme in ("http", "https", "all"):
        if found.get(scheme):
            proxy = found[scheme]
            patterns.append((f"{scheme}://", proxy if "://" in proxy else f"http://{proxy}"))
    for host in (h.strip() for h in found.get("no", "").split(",")):
        if host == "*":
            return None
        if not host:
            continue
        if "://" in host:
            patterns.append((host, None))
        elif _is_ip(host, ipaddress.IPv4Address) or host.lower() == "localhost":
            patterns.append((f"all://{host}", None))
        elif _is_ip(host, ipaddress.IPv6Address):
            patterns.append((f"all://[{host}]", None))
        else:
            patterns.append((f"all://*{host}", None))
    ranked = sorted(
        ((p, _Pattern(p)) for p, _ in patterns), key=lambda item: item[1].priority
    )  # stable, as httpx's sort: equal priorities keep their order
    chosen = dict(patterns)
    for key, pattern in ranked:
        if pattern.matches(url):
            target = chosen[key]
            return None if target is None else _proxy(target)
    return None


def _proxy(url: str) -> httpx.Proxy:
    """The proxy the environment names, or a ``TruebitError`` that says why it cannot be used
    (httpx refuses the same settings, with a ``ValueError`` or an ``ImportError``)."""
    try:
        proxy = httpx.Proxy(url)
    except ValueError:
        raise TruebitError(
            "the proxy named by the environment (HTTP_PROXY, HTTPS_PROXY or ALL_PROXY) is not an "
            "http://, https://, socks5:// or socks5h:// URL"
        ) from None
    if proxy.url.scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise TruebitError(
            "the environment names a SOCKS proxy, which needs the socksio package: "
            "pip install 'httpx[socks]' (or unset ALL_PROXY / HTTPS_PROXY)"
        )
    return proxy


def getproxies() -> dict[str, str]:
    return urllib.request.getproxies()


def _is_ip(host: str, kind: type[ipaddress.IPv4Address] | type[ipaddress.IPv6Address]) -> bool:
    try:
        kind(host.split("/")[0])
    except ValueError:
        return False
    return True


class _Pattern:
    """One proxy key (``all://*example.com``, ``https://``...) and what it matches."""

    def __init__(self, pattern: str) -> None:
        url = httpx.URL(pattern)
        self.scheme = "" if url.scheme == "all" else url.scheme
        self.host = "" if url.host == "*" else url.host
        self.port = url.port
        if not url.host or url.host == "*":
            self.regex: re.Pattern[str] | None = None
        elif url.host.startswith("*."):  # subdomains only
            self.regex = re.compile(f"^.+\\.{re.escape(url.host[2:])}$")
        elif url.host.startswith("*"):  # the domain and its subdomains
            self.regex = re.compile(f"^(.+\\.)?{re.escape(url.host[1:])}$")
        else:
            self.regex = re.compile(f"^{re.escape(url.host)}$")

    def matches(self, url: httpx.URL) -> bool:
        if self.scheme and self.scheme != url.scheme:
            return False
        if self.host and self.regex is not None and not self.regex.match(url.host):
            return False
        return self.port is None or self.port == url.port

    @property
    def priority(self) -> tuple[int, int, int]:
        return (0 if self.port is not None else 1, -len(self.host), -len(self.scheme))


# --- answers -----------------------------------------------------------------------------------


def answer_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The answer's headers, names in lower case; a repeated header's values joined by ``", "``
    (what ``httpx.Headers.get`` gives)."""
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        try:
            text = value.decode("ascii")
        except UnicodeDecodeError:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                text = value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def error_response(
    status: int, raw: list[tuple[bytes, bytes]], content: bytes, method: str, url: str
) -> httpx.Response:
    """The ``httpx.Response`` an error carries as ``.response`` (made only for an answer that became
    an error). The body is the one read, decoded: the coding headers that described it on the wire
    are left out. The request is named (method and URL) without its headers, which carry the key."""
    decoded = any(n.lower() == b"content-encoding" for n, _ in raw)
    headers = (
        [(n, v) for n, v in raw if n.lower() not in (b"content-encoding", b"content-length")]
        if decoded
        else raw
    )
    return httpx.Response(status, headers=headers, content=content, request=httpx.Request(method, url))
