"""Durable batches: thousands to millions of tasks that survive the client's own crash without losing
a result or paying twice. See ``docs/batches.md``.

    from truebit_facade import Truebit
    from truebit_facade.batch import Batch

    with Truebit() as tb, Batch(tb, "fib.ledger") as batch:
        summary = batch.run_functions("3a2b5129", "fibonacci", (str(n % 90) for n in range(100_000)))
        print(summary.finished_ok, summary.in_doubt)

Every input gets a row in a SQLite ledger (``pending`` -> ``submitting`` -> ``submitted`` ->
``finished`` / ``failed``, or ``in_doubt``), each transition committed before the I/O it announces.
"""

from ._api import AsyncBatch, Batch
from ._items import BatchItem, check_key, check_value
from ._ledger import Ledger
from ._prefetch import read_ahead
from ._records import (
    BatchEvent,
    BatchRow,
    BatchSummary,
    DuplicateKeyError,
    InputChangedError,
    LedgerBusyError,
    LedgerError,
    RowState,
)
from ._transport import BatchTransport

__all__ = [
    "AsyncBatch",
    "Batch",
    "BatchEvent",
    "BatchItem",
    "BatchRow",
    "BatchSummary",
    "BatchTransport",
    "DuplicateKeyError",
    "InputChangedError",
    "Ledger",
    "LedgerBusyError",
    "LedgerError",
    "RowState",
    "check_key",
    "check_value",
    "read_ahead",
]
