"""The one live status line (``truebit_facade.cli._status_line``) that ``run``, ``call``, ``status --wait``
and ``batch`` share: what it shows, rendered on a virtual clock, and how it draws on a terminal."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest

from tests.support import VirtualClock
from truebit_facade.cli import _status_line
from truebit_facade.cli._status_line import StatusLine, finishing_note


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Result:
    def __init__(self, execution_id: str, status: str | None) -> None:
        self.execution_id, self.status_value = execution_id, status


def test_an_execution_and_its_status() -> None:
    clock = VirtualClock()
    line = StatusLine(FakeTerminal(), "running ns/fib", clock=clock)
    assert line.render(80) == "running ns/fib  0.0 s"
    line.execution("e-1", "Submitted")
    clock.sleep(1.25)
    assert line.render(80) == "running ns/fib  execution e-1: Submitted  1.2 s"
    line.on_status(Result("e-1", "Running"))
    assert line.render(80) == "running ns/fib  execution e-1: Running  1.2 s"
    line.on_status(Result("e-1", None))
    assert line.render(80) == "running ns/fib  execution e-1: no status  1.2 s"


def test_a_batch_s_counts_bar_and_finishing_note() -> None:
    clock = VirtualClock()
    line = StatusLine(FakeTerminal(), "batch ns/fib", clock=clock)
    line.counts({"submitted": 6, "finished": 3, "failed": 0, "in doubt": 0}, done=3, total=12)
    clock.sleep(2.0)
    assert line.render(200) == (
        "batch ns/fib  [######..................] 3/12  submitted 6  finished 3  failed 0  in doubt 0  2.0 s"
    )
    line.counts({"submitted": 6, "finished": 3})  # total unknown (stdin): no bar
    line.finishing(3)
    assert line.render(200) == (
        "batch ns/fib  submitted 6  finished 3  — finishing 3 requests — Ctrl-C again to abandon them  2.0 s"
    )
    line.note(None)
    assert line.render(200) == "batch ns/fib  submitted 6  finished 3  2.0 s"
    assert finishing_note(1) == "finishing 1 request — Ctrl-C again to abandon it"


def test_on_a_narrow_terminal_the_finishing_note_is_shown_whole() -> None:
    line = StatusLine(FakeTerminal(), "batch 3a2b5129/echo", clock=VirtualClock())
    line.counts({"submitted": 40, "finished": 15, "failed": 0, "in doubt": 0}, done=15, total=40)
    line.finishing(16)
    shown = line.render(80)
    assert len(shown) <= 79 and "finishing 16 requests — Ctrl-C again to abandon them" in shown


def test_the_line_is_cut_to_the_terminal_width() -> None:
    line = StatusLine(FakeTerminal(), "x" * 200, clock=VirtualClock())
    assert line.render(40) == "x" * 39


def test_off_a_terminal_nothing_is_drawn_but_lasting_lines_are_said() -> None:
    stream = io.StringIO()
    with StatusLine(stream, "batch ns/fib") as line:
        assert not line.live
        line.counts({"submitted": 1})
        line.finishing(2)
        line.finishing(1)  # said once, not at every update
        line.say("failed: key-7 HTTP 500")
    assert stream.getvalue() == (
        "truebit: finishing 2 requests — Ctrl-C again to abandon them\nfailed: key-7 HTTP 500\n"
    )
    assert not StatusLine(FakeTerminal(), "x", enabled=False).live  # --debug turns it off


def wait_for(predicate: Any, what: str) -> None:
    bound = time.monotonic() + 60  # a bound on a stuck thread, not a speed requirement
    while not predicate():
        assert time.monotonic() < bound, what
        time.sleep(0.01)


def test_on_a_terminal_it_ticks_says_above_itself_and_is_wiped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_status_line, "TICK_FIRST", 0.0)
    terminal = FakeTerminal()
    with StatusLine(terminal, "batch ns/fib") as line:
        assert line.live
        line.counts({"submitted": 2, "finished": 1})
        wait_for(lambda: "finished 1" in terminal.getvalue(), "a first frame")
        line.say("failed: key-7 HTTP 500")
        wait_for(lambda: terminal.getvalue().endswith(" s"), "a frame after the lasting line")
    text = terminal.getvalue()
    lasting, _, after = text.partition("failed: key-7 HTTP 500\n")
    assert after, text  # the lasting line, then the live line drawn again under it
    assert re.search(r"\r +\r$", lasting)  # the live line was wiped before it
    assert re.search(r"\r +\r$", text)  # and at the end
    frames = [f.rstrip() for f in after.split("\r") if f.strip()]
    assert frames and all(
        re.fullmatch(r"batch ns/fib  submitted 2  finished 1  \d+\.\d s", f) for f in frames
    )


def test_a_narrow_terminal_encoding_gets_a_hyphen() -> None:
    class AsciiTerminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    raw = io.BytesIO()
    terminal = AsciiTerminal(raw, encoding="ascii", write_through=True)
    line = StatusLine(terminal, "batch", clock=VirtualClock())
    line.finishing(2)
    line.say(line.render(200))
    terminal.flush()
    assert raw.getvalue() == b"batch  - finishing 2 requests - Ctrl-C again to abandon them  0.0 s\n"
