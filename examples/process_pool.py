"""Run tasks from a process pool: one client per process, results crossing back as data.

    python examples/process_pool.py [fork|spawn|forkserver]

Each worker makes its own ``Truebit`` on first use (clients hold a connection pool and are not
picklable); results and errors pickle. The ``__main__`` guard is required under spawn and forkserver
(the defaults on macOS and Windows, and on Linux from Python 3.14): each worker imports this module,
and without the guard it would start a pool of its own.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

from truebit_facade import FunctionResult, Truebit

_client: Truebit | None = None


def _tb() -> Truebit:
    global _client
    if _client is None:
        _client = Truebit()  # one per process, made in the process that uses it
    return _client


def fib(n: int) -> FunctionResult:
    return _tb().functions.run("3a2b5129", "fibonacci", str(n))


def main(start_method: str | None = None) -> None:
    context = multiprocessing.get_context(start_method)
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        results = list(pool.map(fib, range(30)))
    ids = {r.execution_id for r in results}
    assert len(ids) == 30, "every run is its own execution"
    print(f"{context.get_start_method()}: {len(results)} runs, fib(29) = {results[-1].output}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
