"""Every ``examples/*.py`` runs to exit code 0 against a fresh local dispatcher, so none can rot."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(example: Path, sandbox_factory: Callable[..., Any]) -> None:
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
