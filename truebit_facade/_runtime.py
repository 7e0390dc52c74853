"""The few lines the asyncio and the blocking clients cannot share by renaming: a sleep that an
interruption ends, and which event loop (if any) a connection pool belongs to. Hand-paired, as
httpcore pairs its few primitives; ``scripts/unasync.py`` only renames ``pause_async`` to ``pause``
and ``current_loop_async`` to ``current_loop``."""

from __future__ import annotations

import os
import threading
import time

__all__ = ["current_loop", "current_loop_async", "pause", "pause_async", "process"]

_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forked)


def process() -> int:
    """Which process this is, as far as a connection pool cares: it changes in the child of a fork.
    Not ``os.getpid()``: that is a system call, asked on every request (a pid can also come back)."""
    return _forks


# asyncio is imported on first use: it would double the import time of the package.
def current_loop_async() -> object:
    """The running event loop: a pool opened in one loop is not reused in another."""
    import asyncio

    return asyncio.get_running_loop()


def current_loop() -> object:
    """No event loop: the blocking client's pools belong to a process only."""
    return None


async def pause_async(seconds: float, token: threading.Event | None) -> bool:
    """Sleep; True when the call's token was set meanwhile (task cancellation also interrupts it)."""
    import asyncio

    await asyncio.sleep(seconds)
    return token is not None and token.is_set()


def pause(seconds: float, token: threading.Event | None) -> bool:
    """Sleep; True when the call's token was set meanwhile (the token ends the sleep at once)."""
    if token is None:
        time.sleep(seconds)
        return False
    return token.wait(seconds)
