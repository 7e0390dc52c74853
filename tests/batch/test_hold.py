"""Held submits: the choice alone (pure), the driver over the stub, and the batch and the client's
``submit(hold=True)`` on the sandbox: a quick task's result comes in its submit's answer (no status
read), a slow one's hold expires with the id and the batch reads it, and ``"auto"`` holds only the
quick ones."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import abandon_held, silent_server
from truebit_facade import AsyncTruebit, FunctionResult, PollPolicy, Truebit, ValidationError
from truebit_facade.batch import AsyncBatch
from truebit_facade.batch._hold import (
    HOLD_TRIAL_AFTER,
    HOLD_TRIAL_MAX,
    KEEP,
    LEARN,
    PROBE_EVERY,
    QUICK,
    TRIAL,
    WINDOW,
    HoldChoice,
    check_hold,
)
from truebit_facade.batch._stub import StubService
from truebit_facade.sandbox import NodeFault, Sandbox, SandboxConfig

from .conftest import FAST_POLL

NS = "3a2b5129"


# --- the choice, alone ----------------------------------------------------------------------------


def _held(choice: HoldChoice, seconds: float | None, at: float = 0.0) -> None:
    """One held submit, from its start at ``at`` to its end ``seconds`` later."""
    assert choice.next(at) is True
    choice.ended(at, seconds)


def test_fixed_choices_never_change() -> None:
    always, never = HoldChoice(True), HoldChoice(False)
    for i in range(3 * PROBE_EVERY):
        assert never.next(float(i)) is False
        _held(always, math.inf, float(i))
        assert always.next(float(i)) is True and never.next(float(i)) is False


def test_auto_learns_with_one_probe_at_a_time_then_holds_quick_tasks() -> None:
    choice = HoldChoice("auto")
    assert choice.next(0.0) is True  # the first submit is a probe
    assert [choice.next(0.0) for _ in range(10)] == [False] * 10  # never two probes at once
    choice.ended(0.0, 0.3)  # a cold first run (the service compiled the task): slow
    choice.plain(0.01)
    assert not choice.holding(1.0)
    for _ in range(LEARN):  # learning: the next probe at once, each answered in 4 ms
        if choice.holding(1.0):
            break
        _held(choice, 0.004, 1.0)
    assert choice.holding(1.0) and all(choice.next(1.0) for _ in range(50))


def test_a_few_slow_tasks_among_quick_ones_turn_holding_off() -> None:
    # The mean decides, as slots are spent: one 5 s task in 16 costs more than the 15 quick save.
    choice = HoldChoice("auto")
    for _ in range(WINDOW):
        _held(choice, 0.004)
    assert choice.holding(0.0)
    _held(choice, 5.0)
    assert not choice.holding(0.0)


def test_holds_still_out_count_at_their_age() -> None:
    choice = HoldChoice("auto")
    for _ in range(WINDOW):
        _held(choice, 0.004)
    starts = [10.0 + i * 0.001 for i in range(3)]
    assert all(choice.next(t) for t in starts)  # three held submits out, not yet answered
    assert choice.holding(10.01)  # young: nothing known against them
    assert not choice.holding(13.0)  # three seconds out: slow, whatever the window says
    for t in starts:
        choice.ended(t, 3.0)
    assert not choice.holding(13.0)


def test_a_blip_near_the_bound_keeps_holding_on() -> None:
    # Near the bound both modes complete about as many tasks a second: holding, once on, stops only
    # when the mean is clearly over it (KEEP times), and starts again only at or under it.
    choice = HoldChoice("auto")
    for _ in range(WINDOW):
        _held(choice, 0.03)
    assert choice.holding(0.0)
    _held(choice, 0.03 + WINDOW * (QUICK * KEEP - 0.03) * 0.9)  # mean just under KEEP x the bound
    assert choice.holding(0.0)
    _held(choice, 0.03 + WINDOW * (QUICK * KEEP - 0.03))  # two such: over it
    assert not choice.holding(0.0)
    off = HoldChoice("auto")
    for _ in range(WINDOW):
        off.ended(0.0, QUICK * 1.2)  # told of held submits, never on: over the bound is not enough
    assert not off.holding(0.0)


def test_one_stalled_hold_among_quick_ones_is_soon_forgotten() -> None:
    # A stall (the service paused for more than a second once) turns holding off, as its slot was
    # spent; the typical hold is still quick, so probes go back to back, a quarter of the slots at a
    # time, and push it out of the window.
    choice = HoldChoice("auto", concurrency=16)
    for _ in range(WINDOW - 1):
        _held(choice, 0.01)
    _held(choice, 1.5)
    assert not choice.holding(1.0)
    probes = [choice.next(1.0) for _ in range(10)]
    assert probes.count(True) == 4  # at once, and no more until one ends
    for _ in range(4):
        choice.ended(1.0, 0.01)
    submits = 0
    while not choice.holding(1.0):
        submits += 1
        assert submits <= 2 * WINDOW
        if choice.next(1.0):
            choice.ended(1.0, 0.01)
    # Slow tasks are another matter: their median is slow, so probes stay one in PROBE_EVERY.
    slow = HoldChoice("auto")
    for _ in range(WINDOW):
        slow.ended(0.0, 0.6)  # told of held submits (however they came to be held)
    assert [slow.next(2.0) for _ in range(PROBE_EVERY)].count(True) == 1


def test_auto_stops_holding_when_holds_expire_and_probes_again() -> None:
    choice = HoldChoice("auto", concurrency=4)  # one probe at a time
    for _ in range(WINDOW):
        _held(choice, 0.002)
    assert choice.holding(0.0)
    _held(choice, math.inf)  # a hold that expired with only an id
    assert not choice.holding(0.0)
    decisions = [choice.next(1.0) for _ in range(2 * PROBE_EVERY)]
    assert decisions.count(True) == 1  # the probe in flight never ended: no second one
    choice.ended(1.0, None)  # it failed: no news of speed, but the next probe may go
    decisions = [choice.next(2.0) for _ in range(PROBE_EVERY)]
    assert decisions.count(True) == 1


def test_the_floor_follows_the_rate_limit() -> None:
    # 16 slots at 100 requests/s: async mode completes at most 50 tasks/s, holding 16/h: worth it
    # up to h = 0.32 s, so a 0.2 s task is held; with no limit, only quicker ones.
    limited, free = HoldChoice("auto", concurrency=16, rate=100.0), HoldChoice("auto", concurrency=16)
    for choice in (limited, free):
        for _ in range(WINDOW):
            choice.ended(0.0, 0.2)  # told of held submits (however they came to be held)
    assert limited.holding(0.0) and not free.holding(0.0)
    for _ in range(WINDOW):
        free.plain(0.15)  # a slow service: two 0.15 s requests cost more than one 0.2 s hold
    assert free.holding(0.0)


def test_the_first_probe_holds_the_others_back_briefly() -> None:
    choice = HoldChoice("auto")
    assert choice.wait_until(0.0) is None  # nothing out yet
    assert choice.next(10.0) is True
    assert choice.wait_until(10.01) == pytest.approx(10.0 + QUICK)  # wait for its answer...
    assert choice.wait_until(10.0 + QUICK) is None  # ...no longer than a hold worth making
    choice.ended(10.0, 0.004)
    assert choice.wait_until(10.01) is None and choice.holding(10.01)  # answered quickly: all held
    assert choice.next(10.02) is True and choice.wait_until(10.02) is None  # later holds hold back nothing


@pytest.mark.parametrize("bad", ["yes", 1, None, 0.5])
def test_hold_setting_is_checked(bad: Any, ledger_path: Path) -> None:
    with pytest.raises(ValidationError, match="hold"):
        check_hold(bad)
    with pytest.raises(ValidationError, match="hold"):
        AsyncBatch(StubService(), ledger_path, hold=bad)


# --- the driver over the stub ---------------------------------------------------------------------


def _run(stub: StubService, path: Path, inputs: list[str], **settings: Any) -> Any:
    async def main() -> Any:
        async with AsyncBatch(stub, path, rate=None, poll=FAST_POLL, seed=1, **settings) as batch:
            summary = await batch.run_functions(NS, "echo", inputs)
            return summary, [row.output async for row in batch.results()]

    return asyncio.run(main())


def test_held_submits_that_answer_with_the_result_need_no_read(ledger_path: Path) -> None:
    stub = StubService(running_reads=0)
    inputs = [f"held-{i}" for i in range(200)]
    summary, outputs = _run(stub, ledger_path, inputs, hold=True)
    assert summary.complete and summary.finished_ok == 200 and outputs == inputs
    assert stub.held == stub.submits == 200 and stub.reads == 0 and summary.reads_per_task == 0


def test_a_hold_that_expires_with_the_id_is_read_as_usual(ledger_path: Path) -> None:
    stub = StubService(running_reads=1)
    inputs = [f"slow-{i}" for i in range(50)]
    summary, outputs = _run(stub, ledger_path, inputs, hold=True)
    assert (
        summary.finished_ok == 50 and outputs == inputs and stub.held == 50 and stub.reads == 100
    )  # Running, then done
    assert set(stub.started.values()) == {1}


def test_auto_over_slow_tasks_holds_only_its_probes(ledger_path: Path) -> None:
    stub = StubService(running_reads=1)
    summary, _ = _run(stub, ledger_path, [f"auto-{i}" for i in range(300)], hold="auto")
    assert summary.finished_ok == 300
    assert 1 <= stub.held <= LEARN + 300 // PROBE_EVERY + 1


# --- on the sandbox -------------------------------------------------------------------------------


def _late_sandbox(hold: float, late: float) -> Sandbox:
    """A sandbox whose one node answers ``late`` seconds late: each task takes that long."""
    config = SandboxConfig(
        hold_seconds=hold, faulty_nodes={0: NodeFault("slow", late)}, verification_timeout_seconds=30.0
    )
    return Sandbox(config)


def test_submit_hold_gives_the_result_of_a_quick_task(truebit_client: Truebit) -> None:
    execution = truebit_client.functions.submit(NS, "fibonacci", "22", hold=True)
    assert isinstance(execution.result, FunctionResult)
    assert execution.result.ok and execution.result.output == "17711"
    assert execution.result.execution_id == execution.execution_id
    assert truebit_client.functions.get(execution.execution_id).output == "17711"
    plain = truebit_client.functions.submit(NS, "fibonacci", "22")
    assert plain.result is None


def test_submit_hold_checks_its_flag_before_any_request(truebit_client: Truebit) -> None:
    with pytest.raises(ValidationError, match="hold"):
        truebit_client.functions.submit(NS, "fibonacci", "22", hold="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="hold"):
        truebit_client.api_tasks.submit(NS, "custom", path="/x", hold=1)  # type: ignore[arg-type]


@pytest.mark.timeout(60)
def test_an_expired_hold_gives_the_id_only() -> None:
    with _late_sandbox(0.3, 1.0) as sb, Truebit(api_key=sb.api_key, base_url=sb.url, sync_hold=0.3) as tb:
        execution = tb.functions.submit(NS, "fibonacci", "10", hold=True)
        assert execution.result is None
        assert tb.functions.wait(execution.execution_id, timeout=30).output == "55"


@pytest.mark.timeout(120)
def test_auto_on_the_sandbox_holds_quick_tasks_and_reads_slow_ones(
    truebit_sandbox: Sandbox, tmp_path: Path
) -> None:
    def batch_on(sb: Sandbox, name: str, count: int, concurrency: int) -> Any:
        posts: list[bool] = []  # per POST: whether it was a held (sync-mode) one

        async def hook(request: httpx.Request) -> None:
            if request.method == "POST":
                posts.append(b'"async":false' in request.content.replace(b" ", b""))

        async def main() -> Any:
            http = httpx.AsyncClient(event_hooks={"request": [hook]})
            client = AsyncTruebit(api_key=sb.api_key, base_url=sb.url, http_client=http, sync_hold=0.5)
            async with (
                http,
                client as tb,
                AsyncBatch(
                    tb,
                    tmp_path / f"{name}.ledger",
                    rate=None,
                    poll=PollPolicy(initial=0.05),
                    concurrency=concurrency,
                ) as batch,
            ):
                return await batch.run_functions(NS, "echo", [f"{name}-{i}" for i in range(count)])

        return asyncio.run(main()), posts

    with Truebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url) as tb:
        tb.functions.run(NS, "echo", "warm")  # the task compiled: the first probe is as quick as the rest
    # Two at a time: a held submit then waits for its own task alone, not for others queued ahead
    # of it (on a busy machine those would make quick tasks slow ones).
    quick, quick_posts = batch_on(truebit_sandbox, "quick", 120, 2)
    assert quick.finished_ok == 120 and len(quick_posts) == 120
    # Held from the first few probes on: most tasks cost their submit alone.
    assert sum(quick_posts) >= 60 and quick.reads_per_task < 0.5
    # Each task outlasts the hold: a held submit gets only the id (endless, as far as holding goes),
    # however slow a busy machine makes the requests.
    with _late_sandbox(0.5, 1.0) as slow:
        late, late_posts = batch_on(slow, "late", 40, 16)
    assert late.finished_ok == 40 and len(late_posts) == 40
    assert sum(late_posts) <= LEARN + 1 and late.reads_per_task >= 0.8  # async, read as usual


# --- an abandon ends the process at once, held submits in flight or not --------------------------

_CHILD = """
import json, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from truebit_facade import Truebit
from truebit_facade.batch import Batch
url, ledger = sys.argv[1:]
with Truebit(api_key="k", base_url=url) as tb, Batch(tb, ledger, hold=True, concurrency=2, rate=None) as b:
    try:
        b.run_functions("3a2b5129", "echo", ["a", "b", "c", "d"])
    except KeyboardInterrupt:
        s = b.summary()
        print(json.dumps({"in_doubt": s.in_doubt, "abandoned": s.abandoned_this_run}), flush=True)
"""


@pytest.mark.timeout(120)
def test_a_second_ctrl_c_ends_a_blocking_batch_without_waiting_for_its_holds(tmp_path: Path) -> None:
    # A server that reads every request and never answers: each held submit would wait for the
    # client's bound of the hold (60 + 15 s). Abandoned, they must not keep the process alive.
    with silent_server() as (url, held):
        out = abandon_held([sys.executable, "-c", _CHILD, url, str(tmp_path / "b.ledger")], held, 2)
    assert json.loads(out.splitlines()[-1]) == {"in_doubt": 2, "abandoned": 2}


# --- answers no real server gives (a mock transport) ----------------------------------------------


def _mock_batch(tmp_path: Path, handler: Any, **settings: Any) -> Any:
    async def main() -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        tb = AsyncTruebit(api_key="Secret-Api-Key-0001", base_url="http://svc", http_client=http)
        async with (
            http,
            tb,
            AsyncBatch(tb, tmp_path / "m.ledger", rate=None, poll=FAST_POLL, **settings) as b,
        ):
            summary = await b.run_functions(NS, "echo", ["x"])
            return summary, [row async for row in b.results()]

    return asyncio.run(main())


def test_a_held_answer_with_an_id_and_an_unreadable_result_is_read_by_its_id(tmp_path: Path) -> None:
    posts: list[bytes] = []
    done = {"executionId": "e1", "verificationStatus": "Success"}
    done["clearTextSolution"] = {"output": "x", "executionStatus": "succeed"}  # type: ignore[assignment]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request.content)
            return httpx.Response(200, json={"executionId": "e1", "verificationStatus": 5})
        return httpx.Response(200, json=done)

    summary, rows = _mock_batch(tmp_path, handler, hold=True)
    assert len(posts) == 1  # submitted once: the id was known, so it is read, never resubmitted
    assert summary.finished_ok == 1 and rows[0].execution_id == "e1" and rows[0].output == "x"


def test_a_task_that_echoes_the_api_key_leaves_it_out_of_the_ledger(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["x-api-key"]
        solution = {"output": f"the key is {key}", "executionStatus": "succeed"}
        return httpx.Response(
            200, json={"executionId": "e1", "verificationStatus": "Success", "clearTextSolution": solution}
        )

    for hold in (True, False):
        (tmp_path / str(hold)).mkdir()
        summary, rows = _mock_batch(tmp_path / str(hold), handler, hold=hold)
        assert summary.finished_ok == 1 and "Secret-Api-Key-0001" not in rows[0].output
        stored = b"".join(p.read_bytes() for p in (tmp_path / str(hold)).iterdir() if p.is_file())
        assert b"Secret-Api-Key-0001" not in stored


def _finish(choice: HoldChoice, start: float, rate: float, count: int) -> float:
    """``count`` tasks ending at ``rate`` a second from ``start``; the time after the last."""
    for i in range(count):
        choice.finished(start + i / rate)
    return start + count / rate


def test_when_the_service_is_the_limit_async_mode_is_tried_and_holding_resumes() -> None:
    # 16 slots; the service slows (its own queue): holds of 0.2 s, 80 tasks/s while holding. Async
    # mode then completes no more (the service is the limit): holds that slow are proven as good.
    choice = HoldChoice("auto", concurrency=16)
    for _ in range(WINDOW):
        _held(choice, 0.02)
    assert choice.holding(0.0)
    for _ in range(WINDOW):
        choice.ended(0.0, 0.2)  # told of held submits (however they came to be held)
    assert not choice.holding(1.0)  # on trial from 1.2 s (when the holds out have had their time)
    end = _finish(choice, 1.0, 80.0, 10)  # before the trial: not counted
    end = _finish(choice, max(end, 1.2), 85.0, TRIAL + 1)
    assert choice.holding(end)  # 85/s is not 1.25 x 80/s: holding resumes at 0.2 s
    assert choice.next(end)


def test_when_the_tasks_became_slow_async_mode_is_tried_and_kept() -> None:
    # The tasks themselves now take 2 s: holding would complete 8 a second, async mode does 200.
    choice = HoldChoice("auto", concurrency=16)
    for _ in range(WINDOW):
        _held(choice, 0.02)
    assert choice.holding(0.0)
    for _ in range(WINDOW):
        choice.ended(0.0, 2.0)
    assert not choice.holding(1.0)
    end = _finish(choice, 3.0, 200.0, 2 * TRIAL)
    assert not choice.holding(end)


def _hold_trial(choice: HoldChoice, at: float, first: float, rate: float, count: int) -> float:
    """Holding on trial from ``at``: every submit holds; the first ends ``first`` seconds later,
    then ``count`` more at ``rate`` a second. The time of the last end."""
    assert choice.holding(at) and all(choice.next(at) for _ in range(16))
    end = at + first
    for i in range(count + 1):
        choice.ended(at, 0.1, end + i / rate)
    return end + count / rate


def test_async_mode_from_the_start_tries_holding_and_keeps_it_when_the_service_is_the_limit() -> None:
    # The batch began in async mode (the first holds were slow: cold), and its probes stay slow as
    # they wait behind its own executions queued at the service: 0.12 s. The service completes 160
    # tasks a second either way. Holding is tried: 16 held at 0.1 s also complete 160 a second.
    choice = HoldChoice("auto", concurrency=16)
    for _ in range(WINDOW):
        choice.ended(0.0, 0.12)  # told of held submits (however they came to be held)
    assert not choice.holding(0.0)
    end = _finish(choice, 0.0, 160.0, HOLD_TRIAL_AFTER - 1)
    assert not choice.holding(end)  # not yet: too few tasks seen in async mode
    end = _hold_trial(choice, _finish(choice, end, 160.0, 1), 0.12, 160.0, TRIAL)
    assert choice.holding(end + 1.0) and all(choice.next(end + 1.0) for _ in range(3 * PROBE_EVERY))


def test_a_hold_trial_over_slow_tasks_gives_way_and_the_next_waits_twice_as_long() -> None:
    # Tasks of 0.25 s on a service with room for many: async mode completes 200 a second, holding
    # 16 / 0.25 = 64. The trial ends once its tasks are late for a rate worth keeping (200 / BETTER).
    choice = HoldChoice("auto", concurrency=16)
    for _ in range(WINDOW):
        choice.ended(0.0, 0.25)
    end = _finish(choice, 0.0, 200.0, HOLD_TRIAL_AFTER)
    end = _hold_trial(choice, end, 0.25, 64.0, TRIAL // 2)
    assert not choice.holding(end)  # given up before TRIAL ends: they came too slowly
    end = _finish(choice, end, 200.0, 2 * HOLD_TRIAL_AFTER - 1)
    assert not choice.holding(end)
    again = _finish(choice, end, 200.0, 1)
    assert choice.holding(again) and choice.next(again)  # tried again, twice as many ends later
    choice.ended(again, math.inf)  # a hold of the trial expired: holding is not worth it
    assert not choice.holding(again + 0.01)
    # Slower still: no trial at all (it would keep every slot for that long).
    slow = HoldChoice("auto", concurrency=16)
    for _ in range(WINDOW):
        slow.ended(0.0, HOLD_TRIAL_MAX * 1.5)
    assert not slow.holding(_finish(slow, 0.0, 200.0, 4 * HOLD_TRIAL_AFTER))
