"""The root of the hierarchy and the errors of checking and reading data: bad input
(``ValidationError``) and answers that are not what the API promises (``MalformedResponseError``).

They sit below the results (``_models``), which raise them, and below the rest of the hierarchy in
``_errors``, which carries results; ``_errors`` re-exports them, so the hierarchy has one namespace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = ["MalformedResponseError", "TruebitError", "ValidationError"]


class TruebitError(Exception):
    """Base of every error this library raises."""

    def __init__(self, message: str, *, execution_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The execution this error is about, when one is known: fetch it later with ``get``/``wait``.
        self.execution_id = execution_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (process pools, task queues), although __init__ takes keyword arguments; the raw
        # ``response`` stays behind (a live httpx object), everything else comes along.
        state = {k: (None if k == "response" else v) for k, v in self.__dict__.items()}
        return (_restore, (type(self), self.args, state))


def _restore(cls: type[TruebitError], args: tuple[Any, ...], state: dict[str, Any]) -> TruebitError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ValidationError(TruebitError, ValueError):
    """An argument is invalid; raised before anything is sent. ``field`` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class MalformedResponseError(TruebitError):
    """The body is not what the API promises (not JSON, wrong types, missing execution id)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        response: httpx.Response | None = None,
        execution_id: str | None = None,
        may_have_submitted: bool = False,
    ) -> None:
        super().__init__(message, execution_id=execution_id)
        self.status_code = status_code
        self.response = response
        self.may_have_submitted = may_have_submitted
