"""What a batch reports: row states, events, rows read back from the ledger, the summary, and the
batch's own errors."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

import attrs

from .. import TruebitError, ValidationError

__all__ = [
    "BatchEvent",
    "BatchRow",
    "BatchSummary",
    "DuplicateKeyError",
    "InputChangedError",
    "LedgerBusyError",
    "LedgerError",
    "RowState",
]


class RowState(StrEnum):
    """A row's state. Each transition is committed to the ledger *before* the I/O it announces.

    ``pending`` -> ``submitting`` (committed before the POST) -> ``submitted`` (the execution id) ->
    ``finished`` (a result) or ``failed`` (an error; the execution id is kept). ``in_doubt``: the
    POST may have reached the service but no execution id came back (the process died during it, or
    the error said ``may_have_submitted``); resubmitted only when asked (``resubmit_in_doubt``)."""

    PENDING = "pending"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    FINISHED = "finished"
    FAILED = "failed"
    IN_DOUBT = "in_doubt"


EventKind = Literal["submitted", "finished", "failed", "in_doubt"]


@attrs.frozen
class BatchEvent:
    """Progress of one row, emitted once the ledger holds it. ``ok`` is set for ``finished`` (a
    verified success or not), ``error`` (``{"type", "message"}``) for ``failed`` and ``in_doubt``."""

    kind: EventKind
    key: str
    seq: int
    execution_id: str | None = None
    ok: bool | None = None
    status: str | None = None
    output: Any = attrs.field(default=None, repr=False)
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"event": self.kind, "key": self.key, **_outcome_json(self)}


@attrs.frozen
class BatchRow:
    """One row of the ledger: the input's key and position (``seq``), its state and what it ended
    with. ``raw`` is the service's last answer (header values scrubbed), ``output`` the task's output
    (a function task's text, an API task's JSON answer)."""

    key: str
    seq: int
    state: RowState
    execution_id: str | None
    ok: bool | None
    status: str | None
    output: Any = attrs.field(repr=False)
    raw: Any = attrs.field(repr=False)
    error: dict[str, Any] | None
    reads: int
    attempts: int
    done_seq: int | None

    @classmethod
    def from_sql(cls, row: tuple[Any, ...]) -> BatchRow:
        key, seq, state, eid, ok, status, output, raw, error, reads, attempts, done_seq = row
        return cls(
            key=key,
            seq=seq,
            state=RowState(state),
            execution_id=eid,
            ok=None if ok is None else bool(ok),
            status=status,
            output=None if output is None else json.loads(output),
            raw=None if raw is None else json.loads(raw),
            error=None if error is None else json.loads(error),
            reads=reads,
            attempts=attempts,
            done_seq=done_seq,
        )

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "state": self.state.value, **_outcome_json(self)}


def _outcome_json(item: BatchEvent | BatchRow) -> dict[str, Any]:
    """What an event and a row both say of the execution, in the JSON lines of ``truebit batch``."""
    return {name: getattr(item, name) for name in ("execution_id", "ok", "status", "output", "error")}


@attrs.frozen
class BatchSummary:
    """Counts per state over the whole ledger after a run, and what this run did.

    ``finished_ok`` of ``finished`` are verified successes, ``indeterminate`` unverified ones (the
    nodes disagreed); the rest of ``finished`` failed as tasks. ``reads_per_task`` is status reads per
    ended row (the ledger's total). ``complete`` says nothing is left to do: no row pending,
    submitted or in doubt.

    The ``*_this_run`` fields, ``rate_limited``, ``stopped`` and ``wall_seconds`` describe one run,
    whatever ended it (done, stopped, interrupted, a bad input, an error): ``stopped`` says it ended
    before its inputs did, ``abandoned_this_run`` counts the submits a second interrupt cut (their
    rows are in doubt)."""

    total: int
    pending: int
    submitting: int
    submitted: int
    finished: int
    finished_ok: int
    indeterminate: int
    failed: int
    in_doubt: int
    submitted_this_run: int
    ended_this_run: int
    reads_this_run: int
    reads_per_task: float
    rate_limited: int
    wall_seconds: float
    abandoned_this_run: int = 0
    stopped: bool = False

    @property
    def complete(self) -> bool:
        return self.pending == self.submitting == self.submitted == self.in_doubt == 0

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["complete"] = self.complete
        return data

    @classmethod
    def of(
        cls,
        counts: dict[str, int],
        *,
        submitted: int = 0,
        ended: int = 0,
        reads: int = 0,
        rate_limited: int = 0,
        abandoned: int = 0,
        stopped: bool = False,
        wall_seconds: float = 0.0,
    ) -> BatchSummary:
        """The ledger's ``counts`` (``Ledger.counts``), with what a run did."""
        done = counts["finished"] + counts["failed"]
        return cls(
            total=counts["total"],
            pending=counts["pending"],
            submitting=counts["submitting"],
            submitted=counts["submitted"],
            finished=counts["finished"],
            finished_ok=counts["finished_ok"],
            indeterminate=counts["indeterminate"],
            failed=counts["failed"],
            in_doubt=counts["in_doubt"],
            submitted_this_run=submitted,
            ended_this_run=ended,
            reads_this_run=reads,
            reads_per_task=counts["reads"] / done if done else 0.0,
            rate_limited=rate_limited,
            abandoned_this_run=abandoned,
            stopped=stopped,
            wall_seconds=wall_seconds,
        )


class LedgerError(TruebitError):
    """The ledger cannot be used for this batch (another job's ledger, an unknown format)."""


class LedgerBusyError(LedgerError):
    """Another process is running a batch on this ledger."""


class InputChangedError(ValidationError):
    """An input given again for a key differs from the one the ledger recorded for it (its digest
    differs): the row may have run with the old input, so the batch refuses to guess. ``key`` names it."""

    def __init__(self, key: str) -> None:
        super().__init__(
            "inputs",
            f"the input for key {key!r} differs from the one recorded in the ledger (changed input, "
            "options or header names); use a new key or a new ledger",
        )
        self.key = key


class DuplicateKeyError(ValidationError):
    """The same key came twice in one run's inputs."""

    def __init__(self, key: str) -> None:
        super().__init__("inputs", f"the key {key!r} appears twice in the inputs")
        self.key = key
