from __future__ import annotations

from pathlib import Path

import pytest

from truebit_facade import PollPolicy

#: Reads as fast as the stub answers: these tests assert on outcomes, never on speed.
FAST_POLL = PollPolicy(initial=0.001, fraction=0.0, maximum=0.001, jitter=0.0)


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "batch.ledger"
