"""The call's state machine, driven by hand: effects out, replies in, no sockets, no sleeps, and no
clock but a number this test moves."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import VirtualClock, unknown_value
from truebit_facade import (
    DEFAULT,
    APIStatusError,
    CallInterruptedError,
    ExecutionNotFoundError,
    MalformedResponseError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    TransportError,
    UnknownStatusError,
    ValidationError,
    WaitTimeoutError,
)
from truebit_facade import _failures as fail
from truebit_facade import _flow as flow
from truebit_facade._answers import API, FUNCTION
from truebit_facade._driver import Steps, Token
from truebit_facade._redact import SecretBook
from truebit_facade._settings import SYNC_MARGIN, Settings
from truebit_facade._wire import Answer, api_request, function_request

START = 1000.0


Handler = Callable[[flow.Send], flow.Reply]


class Drive:
    """Runs one flow: sleeps move the clock, sends go to ``handler``; every effect is recorded."""

    def __init__(self, handler: Handler, **settings: Any) -> None:
        self.clock = VirtualClock(START)
        self.settings = Settings.make(
            api_key="key-123456", base_url="http://tb.test", clock=self.clock, **settings
        )
        self.handler = handler
        self.effects: list[flow.Effect] = []
        self.times: list[float] = []  # the clock when each effect was asked for
        self.progress = flow.Progress()

    def __call__(self, call: flow.Call[Any], token: Token | None = None) -> Any:
        # The clients' own loop (Steps), with this test's I/O: sleeps move the clock.
        with Steps(call, self.settings, SecretBook("key-123456"), token) as steps:
            self.progress = steps.progress
            for effect in steps:
                self.effects.append(effect)
                self.times.append(self.clock.now)
                if isinstance(effect, flow.Sleep):
                    assert effect.seconds >= 0
                    self.clock.now += effect.seconds
                else:
                    steps.reply = self.handler(effect)
        return steps.result

    @property
    def sends(self) -> list[flow.Send]:
        return [e for e in self.effects if isinstance(e, flow.Send)]

    @property
    def sleeps(self) -> list[float]:
        return [e.seconds for e in self.effects if isinstance(e, flow.Sleep)]


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, headers or {}, json.dumps(body).encode() if not isinstance(body, bytes) else body)


def done(eid: str = "e1", verification: str = "Success") -> dict[str, Any]:
    solution = {"output": "17711", "executionStatus": "succeed", "senderAddress": "0x1"}
    return {"executionId": eid, "clearTextSolution": solution, "verificationStatus": verification}


def running(eid: str = "e1") -> dict[str, Any]:
    return {"executionId": eid, "verificationStatus": "Running"}


def fib(sync: bool) -> Any:
    return function_request("ns", "fib", "22", sync=sync, requester_timestamp=1)


def run(timeout: Any = 1800.0, raise_on_failure: bool = True) -> flow.Call[Any]:
    return flow.run(FUNCTION, fib, timeout, raise_on_failure)


def script(*replies: flow.Reply) -> Handler:
    queue = list(replies)
    return lambda send: queue.pop(0)


# --- the happy paths ----------------------------------------------------------------------


def test_a_task_ending_within_the_hold_is_one_sync_send_bounded_by_the_hold() -> None:
    drive = Drive(script(answer(done())))
    result = drive(run())
    assert result.output == "17711" and len(drive.effects) == 1
    (send,) = drive.sends
    assert send.request.sync and json.loads(send.request.content or b"")["async"] is False
    assert send.limits.total == drive.settings.sync_hold + SYNC_MARGIN  # the whole hold, never cut


def test_hold_expiry_then_polling_until_the_end() -> None:
    drive = Drive(script(answer({"executionId": "e1"}), answer(running()), answer(done())))
    assert drive(run()).ok
    assert [s.request.method for s in drive.sends] == ["POST", "GET", "GET"]
    assert drive.sends[1].request.path == "/task/function/execution-status/e1"
    assert len(drive.sleeps) == 2 and all(s > 0 for s in drive.sleeps)
    assert drive.progress.execution_id == "e1"


def test_a_short_deadline_uses_async_mode_and_clips_every_attempt() -> None:
    drive = Drive(script(answer({"executionId": "e1"}), answer(running()), answer(done())))
    drive(run(timeout=5))
    first = drive.sends[0]
    assert not first.request.sync and first.limits.total is not None and first.limits.total <= 5
    for effect, at in zip(drive.effects, drive.times, strict=True):
        if isinstance(effect, flow.Send):
            assert effect.limits.total is not None and effect.limits.connect <= effect.limits.total
            assert at + effect.limits.total <= START + 5 + flow.MIN_ATTEMPT  # ends by the deadline


def test_poll_honours_retry_after_on_a_running_answer() -> None:
    drive = Drive(
        script(answer({"executionId": "e1"}), answer(running(), headers={"retry-after": "7"}), answer(done()))
    )
    drive(run())
    assert drive.sleeps[1] >= 7


# --- retries: one decision ------------------------------------------------------------------


def test_a_failed_status_read_is_retried_honouring_retry_after() -> None:
    drive = Drive(script(answer({}, 503, {"retry-after": "3"}), answer(done())))
    assert drive(flow.wait_call(FUNCTION, "e1", 60, True)).ok
    assert drive.sleeps == [3.0]


def test_retries_exhausted_raise_with_the_execution_id() -> None:
    drive = Drive(lambda send: answer({}, 503), retry=RetryPolicy(attempts=3, initial=0.1, maximum=0.1))
    with pytest.raises(ServerError) as caught:
        drive(flow.wait_call(FUNCTION, "e1", 600, True))
    assert len(drive.sends) == 3 and caught.value.execution_id == "e1"


def test_unreachable_while_waiting_is_a_transport_error_not_unfinished() -> None:
    drive = Drive(lambda send: flow.Failure("connect", sent=False, detail="refused"))
    with pytest.raises(TransportError) as caught:
        drive(flow.wait_call(FUNCTION, "e1", 1800, True))
    assert caught.value.execution_id == "e1" and "may still be running" in str(caught.value)
    assert len(drive.sends) == RetryPolicy().attempts and drive.clock.now - START < 60


def test_an_execute_that_may_have_been_sent_is_never_resent() -> None:
    drive = Drive(lambda send: flow.Failure("timeout", sent=True, detail="slow"))
    with pytest.raises(RequestTimeoutError) as caught:
        drive(run())
    assert len(drive.sends) == 1 and caught.value.may_have_submitted


def test_an_execute_that_never_left_is_retried() -> None:
    drive = Drive(script(flow.Failure("connect", sent=False), answer(done())))
    assert drive(run()).ok and len(drive.sends) == 2


@pytest.mark.parametrize("status", [500, 503, 520])
def test_an_execute_answered_5xx_is_not_resent_and_may_have_submitted(status: int) -> None:
    drive = Drive(lambda send: answer({"message": "busy"}, status))
    with pytest.raises(ServerError) as caught:
        drive(run())
    assert len(drive.sends) == 1 and caught.value.may_have_submitted


# --- the deadline in each phase ---------------------------------------------------------------


def test_deadline_between_polls_is_a_wait_timeout_with_the_last_state() -> None:
    drive = Drive(
        lambda send: answer({"executionId": "e1"}) if send.request.op == "execute" else answer(running())
    )
    with pytest.raises(WaitTimeoutError) as caught:
        drive(run(timeout=20))
    assert caught.value.execution_id == "e1" and caught.value.last_status == "Running"
    assert drive.clock.now <= START + 20


def test_deadline_during_failing_reads_is_a_wait_timeout() -> None:
    drive = Drive(lambda send: answer({}, 503, {"retry-after": "8"}))
    with pytest.raises(WaitTimeoutError) as caught:
        drive(flow.wait_call(FUNCTION, "e1", 10, True))
    assert isinstance(caught.value.__cause__, ServerError) and drive.clock.now <= START + 10


def test_get_is_bounded_by_its_own_timeout() -> None:
    drive = Drive(lambda send: flow.Failure("timeout", sent=True), request_timeout=5)
    with pytest.raises(RequestTimeoutError):
        drive(flow.get(FUNCTION, "e1", DEFAULT))
    assert drive.clock.now <= START + 5
    assert all(s.limits.total is not None and s.limits.total <= 5 for s in drive.sends)


# --- answers ---------------------------------------------------------------------------


def test_an_unknown_status_ends_the_wait_at_the_first_read() -> None:
    from truebit_facade import VerificationStatus

    new = unknown_value(VerificationStatus, "Paused")
    drive = Drive(lambda send: answer({"executionId": "e1", "verificationStatus": new}))
    with pytest.raises(UnknownStatusError) as caught:
        drive(flow.wait_call(FUNCTION, "e1", 1800, True))
    assert caught.value.status == new and len(drive.sends) == 1 and drive.sleeps == []


@pytest.mark.parametrize(
    "body",
    [{}, {"executionId": "other", "verificationStatus": "Success"}, {"executionId": "e1"}, [1], b"<html>"],
)
def test_a_status_answer_that_is_not_about_the_execution_asked_is_malformed(body: Any) -> None:
    drive = Drive(lambda send: answer(body))
    with pytest.raises(MalformedResponseError) as caught:
        drive(flow.get(FUNCTION, "e1", DEFAULT))
    assert caught.value.execution_id == "e1" and len(drive.sends) == 1  # not retried


def test_an_oversized_answer_is_malformed_and_not_retried() -> None:
    drive = Drive(lambda send: flow.Failure("too_large", sent=True, detail="over 32 MiB"))
    with pytest.raises(MalformedResponseError):
        drive(flow.wait_call(API, "a1", 60, True))
    assert len(drive.sends) == 1
    assert drive.sends[0].limits.max_bytes == drive.settings.max_response_bytes


# --- interruption and validation ----------------------------------------------------------


def test_interruption_after_the_id_carries_it() -> None:
    def handler(send: flow.Send) -> flow.Reply:
        return answer({"executionId": "e1"}) if send.request.op == "execute" else flow.INTERRUPTED

    drive = Drive(handler)
    with pytest.raises(CallInterruptedError) as caught:
        drive(run())
    assert caught.value.execution_id == "e1" and "wait('e1')" in str(caught.value)


def test_interruption_before_the_id_says_the_task_may_have_been_submitted() -> None:
    drive = Drive(lambda send: flow.INTERRUPTED)
    with pytest.raises(CallInterruptedError) as caught:
        drive(run())
    assert caught.value.execution_id is None and "may have been submitted" in str(caught.value)


def test_bad_input_fails_before_the_first_effect() -> None:
    drive = Drive(lambda send: pytest.fail("nothing may be sent"))
    bad = lambda sync: function_request("ns", "fib", "1", sync=sync, requester_timestamp=1, total_solutions=0)  # noqa: E731
    with pytest.raises(ValidationError):
        drive(flow.run(FUNCTION, bad, 60, True))
    with pytest.raises(ValidationError):
        drive(flow.run(FUNCTION, fib, -1, True))
    assert drive.effects == []


def test_api_task_secrets_are_scrubbed_from_errors() -> None:
    def build(sync: bool) -> Any:
        return api_request("ns", "t", path="/x", method="GET", sync=sync, headers={"X-Key": "hunter2-secret"})

    echo = {"executionId": "a1", "status": "Error", "errorMsg": "target said: hunter2-secret"}
    drive = Drive(lambda send: answer(echo))
    with pytest.raises(Exception) as caught:
        drive(flow.run(API, build, 60, True))
    assert "hunter2-secret" not in str(caught.value) and "[REDACTED]" in str(caught.value)


def test_on_status_sees_each_change_once() -> None:
    replies = [answer({"executionId": "e1"}), answer(running()), answer(running()), answer(done())]
    seen: list[str | None] = []
    drive = Drive(script(*replies))
    drive(flow.run(FUNCTION, fib, 1800.0, True, on_status=lambda r: seen.append(r.status_value)))
    assert seen == ["Running", "Success"]


def test_on_status_sees_a_result_that_came_within_the_hold() -> None:
    seen: list[Any] = []
    drive = Drive(script(answer(done())))
    drive(flow.run(FUNCTION, fib, 1800.0, True, on_status=seen.append))
    assert [r.status_value for r in seen] == ["Success"]


def test_an_enormous_timeout_never_reaches_a_lock_or_a_sleep_unbounded() -> None:
    drive = Drive(script(answer({"executionId": "e1"}), answer(done())))
    drive(run(timeout=1e12))
    assert all(s.limits.queue is not None and s.limits.queue <= flow.MAX_WAIT for s in drive.sends)
    assert all(s <= flow.MAX_WAIT for s in drive.sleeps)


# --- verified results ----------------------------------------------------------------------


def test_run_returns_the_verified_type_and_a_failure_the_plain_one() -> None:
    from truebit_facade import FunctionResult, VerifiedFunctionResult

    result = Drive(script(answer(done())))(run())
    assert type(result) is VerifiedFunctionResult and result.solution.sender_address == "0x1"
    failed = Drive(script(answer(done(verification="Error"))))(run(raise_on_failure=False))
    assert type(failed) is FunctionResult and not isinstance(failed, VerifiedFunctionResult)
    assert type(Drive(script(answer(running())))(flow.get(FUNCTION, "e1", DEFAULT))) is FunctionResult


def test_a_success_without_its_output_is_not_returned_as_verified() -> None:
    from truebit_facade import FunctionResult, VerifiedFunctionResult

    body = done()
    del body["clearTextSolution"]["output"]
    for raise_on_failure in (True, False):  # malformed: no result that claims success without it
        with pytest.raises(MalformedResponseError, match="output") as caught:
            Drive(script(answer(body)))(run(raise_on_failure=raise_on_failure))
        assert caught.value.execution_id == "e1"
    assert Drive(script(answer(done())))(run()).output == "17711"
    assert issubclass(VerifiedFunctionResult, FunctionResult)


# --- answers proving there is no such endpoint ----------------------------------------------


@pytest.mark.parametrize("status", sorted(fail.NO_SUCH_ENDPOINT))
def test_an_execute_answered_no_such_endpoint_started_nothing_and_names_the_url(status: int) -> None:
    drive = Drive(lambda send: answer(b"Not Found", status))
    with pytest.raises(APIStatusError) as caught:
        drive(run())
    error = caught.value
    assert not error.may_have_submitted and "may have been submitted" not in str(error)
    assert "POST http://tb.test/task/function/execute-by-name" in str(error)
    assert "TRUEBIT_BASE_URL" in str(error) and "no task was started" in str(error)
    assert len(drive.sends) == 1


@pytest.mark.parametrize("status", [403, 409, 418, 500, 502])
def test_other_execute_statuses_still_may_have_submitted(status: int) -> None:
    with pytest.raises(APIStatusError) as caught:
        Drive(lambda send: answer({"message": "x"}, status))(run())
    assert caught.value.may_have_submitted and "TRUEBIT_BASE_URL" not in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        (FUNCTION, "it may be an API task's id: use api_tasks instead of functions"),
        (API, "it may be a function task's id: use functions instead of api_tasks"),
    ],
)
@pytest.mark.parametrize("message", ["execution id not found", "not found"])
def test_a_status_read_that_finds_no_execution_hints_at_the_other_kind_and_the_base_url(
    kind: Any, hint: str, message: str
) -> None:
    # The API's error shape cannot tell an unknown id from an unknown route (see the sandbox tests):
    # both hints, the URL named.
    drive = Drive(lambda send: answer({"message": message}, 404))
    with pytest.raises(ExecutionNotFoundError) as caught:
        drive(flow.wait_call(kind, "e1", 60, True))
    text = str(caught.value)
    assert text.startswith(f"HTTP 404: {message}; GET http://tb.test/task/{kind.name}/execution-status/e1 ")
    assert "check TRUEBIT_BASE_URL (or base_url)" in text and text.endswith("; " + hint)
    assert len(drive.sends) == 1


def test_a_404_for_the_id_this_call_was_given_blames_neither_the_url_nor_the_kind() -> None:
    drive = Drive(script(answer({"executionId": "e1"}), answer({"message": "execution id not found"}, 404)))
    with pytest.raises(ExecutionNotFoundError) as caught:
        drive(run())
    text = str(caught.value)
    assert "gave this id to this call's execute request" in text and caught.value.execution_id == "e1"
    assert "TRUEBIT_BASE_URL" not in text and "api_tasks" not in text


def test_a_status_read_404_that_is_not_the_api_s_says_to_check_the_base_url() -> None:
    with pytest.raises(ExecutionNotFoundError) as caught:
        Drive(lambda send: answer(b"<html>nginx</html>", 404))(flow.get(API, "a1", DEFAULT))
    assert "GET http://tb.test/task/api/execution-status/a1" in str(caught.value)
    assert "TRUEBIT_BASE_URL" in str(caught.value)


# --- Ctrl-C and cancellation: what the exception learns -------------------------------------


def _raising(exc: BaseException, op: str) -> Handler:
    def handler(send: flow.Send) -> flow.Reply:
        if send.request.op == op:
            raise exc
        return answer({"executionId": "e1"})

    return handler


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), asyncio.CancelledError()])
def test_an_interruption_after_the_id_carries_it(exc: BaseException) -> None:
    drive = Drive(_raising(exc, "status"))
    with pytest.raises(type(exc)) as caught:
        drive(run())
    assert getattr(caught.value, "execution_id", None) == "e1"
    assert any("wait('e1')" in note for note in caught.value.__notes__)


def test_an_interruption_during_the_sync_hold_says_the_id_is_not_known() -> None:
    drive = Drive(_raising(KeyboardInterrupt(), "execute"))
    with pytest.raises(KeyboardInterrupt) as caught:
        drive(run())
    assert drive.sends[0].request.sync  # the hold: the id would come only with the answer
    assert caught.value.execution_id is None  # type: ignore[attr-defined]
    (note,) = caught.value.__notes__
    assert "may have been submitted" in note and "submit() + wait()" in note


@pytest.mark.parametrize(
    "call", [flow.wait_call(FUNCTION, "e7", 60, True), flow.get(FUNCTION, "e7", DEFAULT)], ids=["wait", "get"]
)
def test_an_interrupted_wait_or_get_carries_the_id_it_was_given(call: flow.Call[Any]) -> None:
    drive = Drive(_raising(KeyboardInterrupt(), "status"))
    with pytest.raises(KeyboardInterrupt) as caught:
        drive(call)
    assert caught.value.execution_id == "e7"  # type: ignore[attr-defined]


def test_a_set_token_stops_the_call_at_its_next_step_with_the_id() -> None:
    import threading

    token = threading.Event()

    def handler(send: flow.Send) -> flow.Reply:
        token.set()  # set while the execute request was answered: the next step stops the call
        return answer({"executionId": "e1"})

    drive = Drive(handler)
    with pytest.raises(CallInterruptedError) as caught:
        drive(run(), token)
    assert caught.value.execution_id == "e1" and len(drive.sends) == 1


def test_steps_closes_the_flow_and_has_no_result_before_the_end() -> None:
    steps = Steps(run(), Drive(script()).settings, SecretBook("key-123456"))
    with steps:
        effect = next(steps)
        assert isinstance(effect, flow.Send)
        with pytest.raises(RuntimeError, match="not finished"):
            _ = steps.result
    assert inspect.getgeneratorstate(steps._flow) == "GEN_CLOSED"  # no flow left suspended
