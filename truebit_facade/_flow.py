"""The whole call as a state machine, without I/O (the h11 / hishel idea).

A call is a generator that *yields effects* and *receives replies*, and returns the outcome or raises
the error. Two effects are enough: :class:`Send` ("send this request within these limits, tell me what
came back") and :class:`Sleep`. A reply to a send is an :class:`Answer` (status, headers, bytes) or a
:class:`Failure` (whether the request may have left this machine, and why it failed); a reply to a
sleep is ``None``. Either may be :data:`INTERRUPTED` when the call's token was set. Everything else is
decided here: sync hold or async mode, how an answer is read, retry or not and for how long, poll or
finish, what the deadline allows, which typed error with which execution id. One loop advances a
flow (``_driver.Steps``); the sync and async clients only answer its effects with I/O, so they cannot
drift, and the tests answer them with a handler and a virtual clock: no sockets, no sleeps.

The rules, each decided in one place:

* An execute request is sent once. It is resent only when it provably never left this machine
  (the connection could not be made); anything else may have started a billable task.
* A failed status read (connection trouble, 408/425/429/5xx or a non-standard status) is retried under
  the retry policy, honouring ``Retry-After``; when the policy gives up, the call raises that error,
  with the execution id. Inside a wait this is the only rule: the poll policy spaces reads that
  *succeeded* and showed the execution still ``Running``.
* An answer proving there is no such endpoint (404, 405, 410, 421, 501) started nothing: the error
  says so, names the URL and points at the base URL.
* An execution id that is (or holds) one of the client's secrets is refused, never shown or sent.
* Every attempt has a wall-clock bound (headers and body together) clipped to the call's deadline,
  except the execute request of sync mode, which is chosen only when the deadline leaves room for the
  whole hold: cutting it would lose the id of a task that is running.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Final, Generic, TypeVar

from . import _failures as fail
from ._answers import Kind, read_execute, read_status
from ._errors import TruebitError, ValidationError
from ._models import ApiTaskResult, Execution, FunctionResult, TaskKind
from ._policy import Deadline, is_retryable_status, parse_retry_after
from ._redact import SecretBook, reveals
from ._settings import DEFAULT, SYNC_MARGIN, Settings, Timeout
from ._wire import Answer, Failure, WireRequest, status_request

__all__ = ["INTERRUPTED", "Effect", "Failure", "Flow", "Progress", "Reply", "Send", "Sleep"]

R = TypeVar("R", FunctionResult, ApiTaskResult)
T = TypeVar("T")

#: The least wall-clock time an attempt gets, even right at the deadline (one last read).
MIN_ATTEMPT: Final[float] = 0.5
#: The longest single wait of any kind (a sleep, waiting for a connection): a day. A server's hint or a
#: caller's timeout beyond it changes nothing, and sleep and lock timeouts overflow past ~292 years.
MAX_WAIT: Final[float] = 86400.0


# The records below are plain classes with slots, not dataclasses: made on every request, they
# cost nothing to define (a dataclass costs its exec'd methods at import) and little to make.


class Limits:
    """What one attempt may take: ``queue`` seconds waiting for a free connection of the pool (the
    call's deadline; ``None``: no bound), then ``connect`` seconds to connect and ``total`` seconds of
    wall-clock time for the whole exchange (``None``: no bound), and ``max_bytes`` of body."""

    __slots__ = ("connect", "max_bytes", "queue", "total")

    def __init__(
        self, connect: float, total: float | None, max_bytes: int, queue: float | None = None
    ) -> None:
        self.connect, self.total, self.max_bytes, self.queue = connect, total, max_bytes, queue

    def __repr__(self) -> str:
        return (
            f"Limits(connect={self.connect!r}, total={self.total!r}, "
            f"max_bytes={self.max_bytes!r}, queue={self.queue!r})"
        )


class Send:
    __slots__ = ("attempt", "limits", "request")

    def __init__(self, request: WireRequest, limits: Limits, attempt: int = 1) -> None:
        self.request, self.limits, self.attempt = request, limits, attempt

    def __repr__(self) -> str:
        return f"Send({self.request!r}, {self.limits!r}, attempt={self.attempt!r})"


class Sleep:
    __slots__ = ("seconds", "why")

    def __init__(self, seconds: float, why: str = "") -> None:
        self.seconds = seconds
        #: Why, for the driver's log: a retry names the failure (already scrubbed), a poll says so.
        self.why = why

    def __repr__(self) -> str:
        return f"Sleep({self.seconds!r}, {self.why!r})"


class _Interrupted:
    def __repr__(self) -> str:
        return "INTERRUPTED"


#: The reply a driver gives instead of performing an effect once the call's token is set.
INTERRUPTED: Final = _Interrupted()

Effect = Send | Sleep
Reply = Answer | Failure | _Interrupted | None
Flow = Generator[Effect, Reply, T]


class Progress:
    """What a call has learnt so far, readable by its driver when the call is torn down (Ctrl-C):
    the execution id once known, and whether an execute request is in flight (then the id, if the
    service assigns one, comes only with its answer). ``id_from_execute``: the id came with this
    call's execute answer (so a later 404 is neither a wrong base URL nor the other kind's id)."""

    __slots__ = ("execution_id", "id_from_execute", "kind", "submitting")

    def __init__(self) -> None:
        self.kind: TaskKind | None = None
        self.execution_id: str | None = None
        self.submitting = False
        self.id_from_execute = False

    def __repr__(self) -> str:
        return (
            f"Progress(kind={self.kind!r}, execution_id={self.execution_id!r}, "
            f"submitting={self.submitting!r}, id_from_execute={self.id_from_execute!r})"
        )


class _OutOfTime(Exception):
    """The deadline came while a status read was still failing; ``error`` is the last failure."""

    def __init__(self, error: TruebitError) -> None:
        self.error = error


# --- one exchange ----------------------------------------------------------------------------


def _do(effect: Effect, progress: Progress) -> Generator[Effect, Reply, Answer | Failure | None]:
    if isinstance(effect, Sleep) and not effect.seconds <= MAX_WAIT:
        effect = Sleep(MAX_WAIT, effect.why)  # a hint of 1e300 seconds is not a reason to crash
    reply = yield effect
    if isinstance(reply, _Interrupted):
        raise fail.interrupted(progress.kind, progress.execution_id)
    return reply


class _Context(Generic[R]):
    """What the sub-flows of one call share: the client's settings, the task kind, the call's
    deadline, the secrets it knows and what it has learnt."""

    __slots__ = ("book", "deadline", "kind", "progress", "settings")

    def __init__(
        self, settings: Settings, kind: Kind[R], deadline: Deadline, book: SecretBook, progress: Progress
    ) -> None:
        self.settings = settings
        self.kind: Kind[R] = kind
        self.deadline, self.book, self.progress = deadline, book, progress

    def limits(self, *, hold: bool = False) -> Limits:
        settings = self.settings
        left = self.deadline.remaining(settings.clock())
        queue = None if left is None else min(max(left, MIN_ATTEMPT), MAX_WAIT)
        if hold:  # the sync-mode execute: the whole hold, whatever the deadline (see the module doc)
            total = settings.sync_hold + SYNC_MARGIN
            return Limits(settings.connect_timeout, total, settings.max_response_bytes, queue)
        total = settings.request_timeout if queue is None else min(settings.request_timeout, queue)
        return Limits(min(settings.connect_timeout, total), total, settings.max_response_bytes, queue)

    def target(self, request: WireRequest) -> str:
        """The method and URL of ``request``, for the messages of errors that say where it went."""
        return f"{request.method} {self.settings.base_url}{request.path}"

    def past_deadline(self, delay: float) -> bool:
        """Whether waiting ``delay`` before a retry would only end at the deadline."""
        left = self.deadline.remaining(self.settings.clock())
        return left is not None and delay >= left


# --- the sub-flows -----------------------------------------------------------------------


def execute(ctx: _Context[R], request: WireRequest) -> Flow[tuple[R | Execution, float | None]]:
    """``POST execute-by-name``: the result (sync mode) or the execution, and the ``Retry-After`` hint."""
    failures = 0
    while True:
        limits = ctx.limits(hold=request.sync)
        ctx.progress.submitting = True
        reply = yield from _do(Send(request, limits, failures + 1), ctx.progress)
        ctx.progress.submitting = False
        if isinstance(reply, Failure):
            error = fail.transport_error(reply, request, ctx.book.known())
            if reply.sent:
                raise error  # it may have reached the service: never resent
            failures += 1
            delay = ctx.settings.retry.delay(failures)
            if delay is None or ctx.past_deadline(delay):
                raise error
            yield from _do(
                Sleep(delay, f"retry {failures} of the execute request after: {error}"), ctx.progress
            )
            continue
        assert isinstance(reply, Answer)
        if not 200 <= reply.status < 300:
            raise fail.status_error(reply, "execute", secrets=ctx.book.known(), target=ctx.target(request))
        outcome = read_execute(reply, ctx.kind, ctx.book.known)
        ctx.progress.execution_id, ctx.progress.id_from_execute = outcome.execution_id, True
        return outcome, parse_retry_after(reply.headers.get("retry-after"))


def read(ctx: _Context[R], request: WireRequest) -> Flow[tuple[R, float | None]]:
    """One status read, retried under the retry policy; ``_OutOfTime`` (carrying the last failure)
    when the deadline comes first."""
    assert request.execution_id is not None
    failures = 0
    while True:
        reply = yield from _do(Send(request, ctx.limits(), failures + 1), ctx.progress)
        hint: float | None = None
        error: TruebitError
        if isinstance(reply, Answer):
            hint = parse_retry_after(reply.headers.get("retry-after"))
            if 200 <= reply.status < 300:
                return read_status(reply, ctx.kind, request.execution_id, ctx.book.known), hint
            error = fail.status_error(
                reply,
                "status",
                secrets=ctx.book.known(),
                execution_id=request.execution_id,
                kind=ctx.kind.name,
                target=ctx.target(request),
                own_id=ctx.progress.id_from_execute,
            )
            if not is_retryable_status(reply.status):
                raise error
        else:
            assert isinstance(reply, Failure)
            error = fail.transport_error(reply, request, ctx.book.known())
            if reply.reason in ("too_large", "unreadable"):
                raise error  # the same answer would come again
        failures += 1
        delay = ctx.settings.retry.delay(failures, retry_after=hint)
        if delay is None:
            raise error
        if ctx.past_deadline(delay):
            raise _OutOfTime(error)
        yield from _do(Sleep(delay, f"retry {failures} of the status read after: {error}"), ctx.progress)
        if ctx.deadline.expired(ctx.settings.clock()):
            raise _OutOfTime(error)


def wait(
    ctx: _Context[R],
    execution_id: str,
    *,
    raise_on_failure: bool,
    started: float | None = None,
    first_delay: float | None = None,
    on_status: OnStatus[R] | None = None,
    seen: R | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Flow[R]:
    """Poll until the execution has ended (any status but ``Running``) or the deadline passes.
    ``on_status`` is called with each state whose status differs from the one seen before."""
    ctx.progress.kind, ctx.progress.execution_id = ctx.kind.name, execution_id
    clock = ctx.settings.clock
    started = clock() if started is None else started
    request = status_request(ctx.kind.name, execution_id, extra_headers)
    last: R | None = seen
    delay = first_delay
    while True:
        if delay:
            yield from _do(Sleep(delay, f"poll of execution {execution_id}"), ctx.progress)
        if ctx.deadline.expired(clock()):
            raise fail.wait_timeout(ctx.kind.name, execution_id, last, clock() - started)
        try:
            current, hint = yield from read(ctx, request)
        except _OutOfTime as out:
            raise fail.wait_timeout(ctx.kind.name, execution_id, last, clock() - started) from out.error
        if on_status is not None and (last is None or current.status_value != last.status_value):
            on_status(current)
        last = current
        if last.is_terminal:
            return finish(last, raise_on_failure, ctx.book)
        now = clock()
        if ctx.deadline.expired(now):
            raise fail.wait_timeout(ctx.kind.name, execution_id, last, now - started)
        delay = ctx.deadline.clip(ctx.settings.poll.delay(now - started, retry_after=hint), now)


def finish(result: R, raise_on_failure: bool, book: SecretBook) -> R:
    """The result ``run``/``wait`` return: with ``raise_on_failure``, only a verified one (typed so)."""
    if raise_on_failure:
        error = fail.outcome_error(result, book.known())
        if error is not None:
            raise error
    return result


# --- the calls the resources make ------------------------------------------------------------

Call = Callable[[Settings, SecretBook, Progress], Flow[T]]
#: Called with each new state of a run or wait (a status that differs from the previous one).
OnStatus = Callable[[R], object]


def run(
    kind: Kind[R],
    build: Callable[[bool], WireRequest],
    timeout: Timeout,
    raise_on_failure: bool,
    on_status: OnStatus[R] | None = None,
) -> Call[R]:
    """Execute and wait: one sync-mode request when the deadline allows the hold, then polling."""

    def flow(settings: Settings, book: SecretBook, progress: Progress) -> Flow[R]:
        settings.require_key()
        progress.kind = kind.name
        deadline = settings.deadline(timeout)
        started = settings.clock()
        left = deadline.remaining(started)
        request = build(left is None or left >= settings.sync_hold + SYNC_MARGIN)
        book.remember(request.secrets)  # input.headers values: scrubbed from every later answer
        ctx = _Context(settings, kind, deadline, book, progress)
        outcome, hint = yield from execute(ctx, request)
        seen = None if isinstance(outcome, Execution) else outcome
        if on_status is not None and seen is not None:
            on_status(seen)
        if isinstance(outcome, Execution) or not outcome.is_terminal:
            now = settings.clock()
            first = deadline.clip(settings.poll.delay(now - started, retry_after=hint), now)
            return (
                yield from wait(
                    ctx,
                    outcome.execution_id,
                    raise_on_failure=raise_on_failure,
                    started=started,
                    first_delay=first,
                    on_status=on_status,
                    seen=seen,
                    extra_headers=request.headers,
                )
            )
        return finish(outcome, raise_on_failure, book)

    return flow


def submit(kind: Kind[R], build: Callable[[bool], WireRequest], hold: bool = False) -> Call[Execution]:
    """Start an execution and return its id: at once (async mode), or with ``hold`` in sync mode,
    carrying the final result when the task ended within the service's hold. Either way one request,
    never resent once it may have gone out, and no status read."""

    def flow(settings: Settings, book: SecretBook, progress: Progress) -> Flow[Execution]:
        settings.require_key()
        progress.kind = kind.name
        request = build(hold)
        book.remember(request.secrets)
        outcome, _ = yield from execute(_Context(settings, kind, Deadline(None), book, progress), request)
        if isinstance(outcome, Execution):
            return outcome
        result = outcome if outcome.is_terminal else None
        return Execution(outcome.execution_id, kind.name, outcome.response, result)

    return flow


def wait_call(
    kind: Kind[R],
    execution_id: str,
    timeout: Timeout,
    raise_on_failure: bool,
    on_status: OnStatus[R] | None = None,
    extra_headers: object = None,
) -> Call[R]:
    def flow(settings: Settings, book: SecretBook, progress: Progress) -> Flow[R]:
        deadline = settings.deadline(timeout)
        headers = status_request(kind.name, execution_id, extra_headers).headers  # checked first
        _not_a_secret(execution_id, book)
        return (
            yield from wait(
                _Context(settings, kind, deadline, book, progress),
                execution_id,
                raise_on_failure=raise_on_failure,
                on_status=on_status,
                extra_headers=headers,
            )
        )

    return flow


def _not_a_secret(execution_id: str, book: SecretBook) -> None:
    """An id that is (or holds) a secret is never put in a URL, a log line or a message."""
    if reveals(execution_id, book.known()):
        raise ValidationError("execution_id", "is (or holds) this client's API key or a secret header value")


def get(kind: Kind[R], execution_id: str, timeout: Timeout, extra_headers: object = None) -> Call[R]:
    """One status read (retried under the retry policy), bounded by ``timeout`` (default: the
    client's ``request_timeout``); any status is returned, ``Running`` included."""

    def flow(settings: Settings, book: SecretBook, progress: Progress) -> Flow[R]:
        progress.kind, progress.execution_id = kind.name, execution_id
        deadline = settings.deadline(settings.request_timeout if timeout is DEFAULT else timeout)
        request = status_request(kind.name, execution_id, extra_headers)
        _not_a_secret(execution_id, book)
        book.remember(request.secrets)
        try:
            result, _ = yield from read(_Context(settings, kind, deadline, book, progress), request)
        except _OutOfTime as out:
            raise out.error from None
        return result

    return flow
