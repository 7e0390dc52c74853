"""Every ``examples/*.py`` runs against a fresh local dispatcher and prints what it is there to show,
line by line (execution ids, addresses and signatures as patterns), so none can rot unnoticed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
ID = r"[0-9a-f]{32}"
ADDRESS = r"0x[0-9a-fA-F]{40}"
HEX64 = r"[0-9a-f]{64}"
FIB_EVERY_THIRD = (0, 2, 8, 34, 144, 610, 2584, 10946, 46368, 196418, 832040)  # fib(0), fib(3), ... fib(30)

# What each example prints: one pattern per line of its stdout, in order.
EXPECTED: dict[str, list[str]] = {
    "async_many.py": [
        *(rf"fib\({n}\) = {fib}" for n, fib in zip(range(0, 31, 3), FIB_EVERY_THIRD, strict=True)),
        rf"fib\('not a number'\) failed: TaskFailedError \(execution {ID}\)",
        r'fib\(10\) = 55 \| echo: \{"hello": "world"\}',
    ],
    "handle_errors.py": [
        r"task failed: failed \| said: trap: integer divide by zero",
        r"ok: False \| verification: Success \| ran: failed",
        rf"not finished after 0\.2 s \(last status (None|Running)\); resuming {ID}",
        # Whichever bound the loop meets first on this machine: its gas, or the task's 10 s wall clock.
        r"finished: failed \| (out of gas: the gas limit of 10000000000 steps was exhausted"
        r"|time limit: still running after 10 s)",
        r'refused: HTTP 400 \(BadRequestError\): HTTP 400: no task "no-such-task" in namespace "3a2b5129"',
    ],
    "process_pool.py": [r"fork: 30 runs, fib\(29\) = 514229"],
    "run_function.py": [
        rf"execution: {ID}",
        r"output: 17711",
        r"verification: Success \| solution: succeed",
        rf"reported by node: {ADDRESS}",
        rf"signature: Signature\(v=2[78], r='{HEX64}', s='{HEX64}'\)",
    ],
    "sandbox_in_process.py": [
        r"sandbox at http://127\.0\.0\.1:\d+",
        r"3 nodes, 2 required: Success 832040",
        r"2 nodes, 2 required: Indeterminate \(output not verified\)",
    ],
    "verify_signature.py": [
        rf"reported by: (?P<address>{ADDRESS})",
        r"recovered:   (?P=address)",
        r"signature verified for output 832040",
    ],
}


def test_every_example_has_its_expected_output() -> None:
    assert sorted(EXPECTED) == [p.name for p in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_and_prints_what_it_shows(example: Path, sandbox_factory: Callable[..., Any]) -> None:
    sandbox_factory()  # sets TRUEBIT_BASE_URL and TRUEBIT_API_KEY, which the examples read
    done = subprocess.run(
        [sys.executable, str(example)],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
        cwd=example.parent.parent,
        check=False,
    )
    assert done.returncode == 0, f"{example.name} failed:\n{done.stdout}\n{done.stderr}"
    expected = "\n".join(EXPECTED[example.name]) + "\n"
    assert re.fullmatch(expected, done.stdout), f"{example.name} printed:\n{done.stdout}"
