"""The one loop that drives a flow (``_flow``), shared by the sync and async clients and the tests:
:class:`Steps` advances the generator, turns a set token into :data:`~._flow.INTERRUPTED`, keeps the
result, closes the generator on every exit, and tells an interruption from outside (Ctrl-C,
cancellation) what the call knew. The driver only answers each effect with its own I/O. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Generic, Protocol, TypeVar

from ._errors import TruebitError
from ._flow import INTERRUPTED, Call, Effect, Progress, Reply
from ._redact import SecretBook
from ._settings import Settings

__all__ = ["Steps", "Token", "mark_group_interrupted", "mark_interrupted"]

T = TypeVar("T")


class Token(Protocol):
    """What interrupts a call from outside: a ``threading.Event`` (set by an interrupted ``run_many``)."""

    def is_set(self) -> bool: ...


class Steps(Generic[T]):
    """One call being driven: the only code that advances a flow, shared by both clients and the tests.
    A driver iterates over the effects and answers each by setting ``reply``; the I/O is its own::

        with flow.Steps(call, settings, book, token) as steps:
            for effect in steps:
                steps.reply = do(effect)      # an Answer or Failure for a Send, None for a Sleep
        return steps.result

    Once ``token`` is set, the call gets :data:`INTERRUPTED` instead of its next effect's reply and
    ends with ``CallInterruptedError``. When anything else ends the call (Ctrl-C, cancellation), the
    exception learns what the call knew: ``execution_id`` (``None`` when no id was received) and a
    note saying whether the task may be running. The generator is closed on every exit."""

    def __init__(
        self,
        call: Call[T],
        settings: Settings,
        book: SecretBook,
        token: Token | None = None,
        group: list[Progress] | None = None,
    ) -> None:
        self.progress = Progress()
        if group is not None:  # the calls of one run_many: an interruption tells all their ids
            group.append(self.progress)
        self.reply: Reply = None
        self._flow = call(settings, book, self.progress)
        self._token = token
        self._result: tuple[T] | None = None

    def __iter__(self) -> Iterator[Effect]:
        return self

    def __next__(self) -> Effect:
        reply, self.reply = self.reply, None
        try:
            effect = self._flow.send(reply)
            while self._token is not None and self._token.is_set():
                effect = self._flow.send(INTERRUPTED)  # the flow raises CallInterruptedError
        except StopIteration as done:
            self._result = (done.value,)
            raise StopIteration from None
        return effect

    @property
    def result(self) -> T:
        """What the call returned (only once the iteration has ended without an error)."""
        if self._result is None:
            raise RuntimeError("the call has not finished")
        return self._result[0]

    def __enter__(self) -> Steps[T]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._flow.close()
        if exc is not None and not isinstance(exc, TruebitError | GeneratorExit):
            mark_interrupted(exc, self.progress)


def mark_interrupted(exc: BaseException, progress: Progress) -> None:
    """Tell whoever catches ``exc`` (a ``KeyboardInterrupt``, a ``CancelledError``) what the call knew."""
    if getattr(exc, "execution_id", None) is not None:
        return  # already told (the same exception through a second call)
    exc.execution_id = progress.execution_id  # type: ignore[attr-defined]
    if progress.execution_id is not None:
        exc.add_note(
            f"truebit: {progress.kind or 'the'} execution {progress.execution_id} may still be running: "
            f"resume with wait({progress.execution_id!r})"
        )
    elif progress.submitting:
        exc.add_note(
            "truebit: interrupted while the execute request was in flight: the task may have been "
            "submitted, and no execution id was received (submit() + wait() learns the id first)"
        )


def mark_group_interrupted(exc: BaseException, group: list[Progress]) -> None:
    """Tell whoever catches ``exc`` what the calls of one ``run_many`` knew: ``execution_ids``, every
    id they received (finished or not: their results are lost with the interruption), and a note."""
    if isinstance(exc, TruebitError | GeneratorExit):
        return
    ids = [p.execution_id for p in group if p.execution_id is not None]
    exc.execution_ids = ids  # type: ignore[attr-defined]
    if hasattr(exc, "results"):
        return  # gather_bounded stopped gracefully and its notes already name the ids and what it abandoned
    in_flight = sum(1 for p in group if p.submitting)
    if ids:
        exc.add_note(
            f"truebit: run_many interrupted; the executions it started: {ids} (collect each with wait())"
        )
    if in_flight:
        exc.add_note(
            f"truebit: {in_flight} execute request(s) were in flight: those tasks may have been submitted, "
            "and no execution id was received"
        )
