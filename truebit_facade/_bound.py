"""The wall-clock bound of one attempt, as the network backends see it (``_async_backends``).

httpcore's timeouts restart with every byte, so a peer that drips its headers or body one byte a
second is never cut by them. The pool's network backend therefore clips every connect, read and
write to what is left of the current attempt (a context variable the pool sets around one
exchange), and fails with httpcore's own timeout error when nothing is left. A context variable
works the same for the blocking and the asyncio pool, and for concurrent attempts in threads or
tasks. A module of its own, without httpcore, so that the package can be imported without it.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from typing import Any

__all__ = ["begin", "clip", "end", "whole", "whole_async"]

# [bound in seconds, end on the monotonic clock once the attempt's first socket operation set it]
_ATTEMPT: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("truebit_attempt", default=None)

Token = contextvars.Token[list[Any] | None]


def begin(total: float | None) -> Token:
    """Every socket operation until :func:`end` ends by ``total`` seconds after the first of them
    (real monotonic time). The clock starts at the first socket operation, not before: waiting for a
    free connection of the pool is bounded by the pool timeout (the call's deadline) and must not eat
    into the attempt's own bound (a held sync-mode request would be cut and its id lost)."""
    return _ATTEMPT.set(None if total is None else [total, None])


def end(token: Token) -> None:
    _ATTEMPT.reset(token)


def clip(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current attempt; ``error`` when nothing is."""
    attempt = _ATTEMPT.get()
    if attempt is None:
        return timeout
    now = time.monotonic()
    if attempt[1] is None:
        attempt[1] = now + attempt[0]
    left: float = attempt[1] - now
    if left <= 0:
        raise error("the attempt's wall-clock bound was reached")
    return left if timeout is None else min(timeout, left)


# --- a caller's own http_client: the bound around the whole attempt, where one is possible --------


def whole_async(total: float | None) -> contextlib.AbstractAsyncContextManager[Any]:
    """The attempt as a whole ends by ``total`` seconds (``TimeoutError``): an asyncio task can be
    cut wherever it waits, so this holds with any transport, a caller's own included."""
    import asyncio  # imported on first use, as everywhere in the package

    return asyncio.timeout(total)


def whole(total: float | None) -> contextlib.nullcontext[None]:
    """Nothing: a blocking read cannot be cut from outside without reaching into the transport (the
    body's chunks are checked against the clock instead; docs/retries-and-polling.md)."""
    return contextlib.nullcontext()
