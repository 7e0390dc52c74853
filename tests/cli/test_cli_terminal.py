"""``truebit run`` on a real pseudo-terminal against a real sandbox, interrupted by a real SIGINT: with
the default options it prints the execution id and the command that resumes, and the sandbox has that
execution (issue 18: "the execution id is always known to the user after a Ctrl-C")."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from typing import Any

import pytest

from truebit_facade import Truebit, cli

from .cli_docs import pattern, section

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

NS = "3a2b5129"
# The child starts with Python's own SIGINT handler whatever this process inherited (a CI runner or
# nohup may ignore SIGINT, and an ignored SIGINT is inherited), then runs the console script's main.
CHILD = (
    "import signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
    "from truebit_facade.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
LINE = re.compile(r"running 3a2b5129/fibonacci  execution (?P<id>[0-9a-f]+): (Submitted|Running)  \d+\.\d s")


class Terminal:
    """A child process whose stdin, stdout and stderr are the slave side of a pseudo-terminal."""

    def __init__(self, argv: list[str]) -> None:
        self.master, slave = os.openpty()
        # A terminal 200 columns wide (a new pty has no size), so the live line is not cut short.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            # The terminal's own size, not one a parent exported (pytest-xdist's workers set COLUMNS).
            env={k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")},
            start_new_session=True,  # the SIGINT below reaches the child only
        )
        os.close(slave)
        self.text = ""

    def read_until(self, done: Callable[[str], Any], bound: float = 60.0) -> Any:
        """Read the terminal until ``done(text)`` is true or the child closes it; a bound against a
        stuck child, not a speed requirement."""
        limit = time.monotonic() + bound
        while not (found := done(self.text)):
            assert time.monotonic() < limit, f"timed out; the terminal shows:\n{self.text}"
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                return done(self.text)
            self.text += chunk.decode("utf-8", "replace")
        return found

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=60)
        os.close(self.master)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_after_a_second_prints_the_execution_id_and_the_resume_command(
    sandbox_factory: Callable[..., Any], signum: int
) -> None:
    # SIGTERM (kill, a service manager) means what Ctrl-C means.
    from truebit_facade.sandbox import NodeFault

    # The sandbox's own hold (60 s), so a sync-mode request would still be held at the Ctrl-C; the one
    # node answers after 8 s, so the execution is still running then.
    sb = sandbox_factory(
        hold_seconds=60.0, faulty_nodes={0: NodeFault("slow", 8.0)}, verification_timeout_seconds=60.0
    )
    terminal = Terminal(["run", NS, "fibonacci", "22"])  # the defaults
    try:
        shown = terminal.read_until(lambda text: LINE.search(text))
        assert shown is not None, terminal.text
        time.sleep(max(0.0, 1.0 - (time.monotonic() - terminal.started)))  # Ctrl-C at ~1 s, not sooner
        os.kill(terminal.proc.pid, signum)
        terminal.read_until(lambda text: False)  # to the end
        code = terminal.proc.wait(timeout=60)
    finally:
        terminal.close()
    execution_id = shown["id"]
    resume = f"truebit status {execution_id} --wait"
    lines = [part.strip() for part in re.split(r"[\r\n]+", terminal.text) if part.strip()]
    assert code == cli.EXIT_INTERRUPTED, terminal.text
    assert (
        lines[-1]
        == f"truebit: interrupted; execution {execution_id} may still be running; resume with: {resume}"
    )
    # ... as docs/cli.md shows it ("Waiting and Ctrl-C")
    shown_in_docs = section("Waiting and Ctrl-C").split("$ truebit run 3a2b5129 fibonacci 22", 1)[1]
    assert pattern(shown_in_docs.splitlines()[1].strip()).fullmatch(lines[-1]), shown_in_docs
    # The sandbox (the one TRUEBIT_BASE_URL named for the child) has that execution, still running.
    with Truebit(base_url=sb.url, api_key=sb.api_key) as client:
        state = client.functions.get(execution_id)
    assert state.execution_id == execution_id and state.status_value == "Running"


@pytest.mark.timeout(180)
def test_truebit_batch_on_a_terminal_shows_its_counts_on_the_status_line(
    sandbox_factory: Callable[..., Any], tmp_path: Any
) -> None:
    # The one status line of the command: a bar and the counts while the batch runs, erased at the end
    # for the summary. The node answers after 1 s, so the line (drawn after 0.25 s) shows.
    from truebit_facade.sandbox import NodeFault

    sandbox_factory(faulty_nodes={0: NodeFault("slow", 1.0)}, verification_timeout_seconds=60.0)
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('"10"\n"11"\n"12"\n')
    ledger = tmp_path / "t.ledger"
    terminal = Terminal(["batch", NS, "fibonacci", str(inputs), "--ledger", str(ledger)])
    try:
        terminal.read_until(lambda text: False)  # to the end
        code = terminal.proc.wait(timeout=60)
    finally:
        terminal.close()
    assert code == cli.EXIT_OK, terminal.text
    frames = re.split(r"[\r\n]+", terminal.text)
    bar = re.compile(
        r"batch 3a2b5129/fibonacci  \[[#.]{24}\] \d/3  submitted \d  finished \d  failed 0  in doubt 0  \d+\.\d s"
    )
    assert any(bar.fullmatch(frame.rstrip()) for frame in frames), terminal.text
    lines = [frame.strip() for frame in frames if frame.strip()]
    assert lines[-1].startswith("3 rows: 3 verified, 0 finished not ok, 0 failed, 0 in doubt, 0 left"), lines
