"""The context-manager shell shared by the things served in a background thread (the sandbox and
the example target)."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self


class ServedContext:
    """``with`` / ``async with`` for something served in a background thread: start on entry, stop
    on exit (the async forms run both off the event loop)."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)
