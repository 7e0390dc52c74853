"""`make bench` (batch part): a durable batch against ``run_many``, and the ledger's own cost.

1. ``--count`` inputs (default 10,000) of the sandbox's ``echo`` task, through ``AsyncBatch`` and
   through ``AsyncTruebit.functions.run_many`` on the same inputs, side by side: wall time, status
   reads per task, client CPU (share of one core), peak client memory (RSS). The sandbox and each
   side run in processes of their own on 127.0.0.1, so the client's figures are the client's alone.
   Both sides use the client's own pool, as ``AsyncTruebit(api_key=...)`` makes it (the batch's
   reads are its own count); a second row (--count/5) goes through a caller's ``httpx.AsyncClient``
   whose event hook counts every request of both sides.
2. ``--ledger-count`` inputs (default 100,000) through the ledger against an in-memory stub service
   (no HTTP): the ledger's and the driver's own cost per input, durable (``synchronous=FULL``) and
   not, and their peak memory (RSS, run first in the process). Tasks per second against the stub is the ceiling of one client
   process; against the sandbox it is the service's: the first far above the second is the claim
   that one process saturates the service before it saturates itself.

Nothing here asserts a time: the machines are noisy. After a warm-up run of each side (not counted),
the two sides run ``--rounds`` times (default 4), each round in the other order than the last, and
the ratio batch/run_many of each round's tasks per second is reported with its median, so that a
load that comes and goes, or a service that speeds up as it warms, weighs on both. Memory: the client's current RSS is
sampled while it runs; "RSS growth" is the last sample minus the one at a fifth of the run (flat: the
batch holds no per-task state). A second sandbox row runs --count/10 tasks that each take --late
seconds (default 0.25), as real tasks take their time: there the batch submits in async mode and
keeps many executions open while run_many holds one request per task. Options: --count N,
--ledger-count N, --concurrency N, --rounds N, --late S, --only sandbox|ledger.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from truebit_facade import AsyncTruebit, FunctionResult, PollPolicy
from truebit_facade.batch import AsyncBatch
from truebit_facade.batch._stub import StubService

NS = "3a2b5129"


def _rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mib() -> float:
    """This process's resident memory now (Linux: /proc/self/statm), or the peak elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return _rss_mib()
    return pages * resource.getpagesize() / (1 << 20)


async def _sample_rss(samples: list[float], every: float = 0.25) -> None:
    while True:
        samples.append(_current_rss_mib())
        await asyncio.sleep(every)


def _measure(work: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Run ``work`` on a fresh loop: its result, wall and CPU seconds, peak RSS before and after."""
    before = _rss_mib()
    wall, cpu = time.perf_counter(), time.process_time()
    result: Any = asyncio.run(work())  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"result": result, "wall": wall, "cpu": cpu, "rss_before": before, "rss_peak": _rss_mib()}


class _Counter:
    def __init__(self) -> None:
        self.reads = 0
        self.posts = 0

    async def __call__(self, request: httpx.Request) -> None:
        if request.method == "GET":
            self.reads += 1
        else:
            self.posts += 1


def child_sandbox(name: str, url: str, key: str, count: int, concurrency: int, client: str) -> dict[str, Any]:
    """One side of the comparison, in a process of its own (so its peak memory is its own).
    ``client``: "own", the client's own pool (as ``AsyncTruebit(api_key=...)`` makes it); "hooks",
    a caller's ``httpx.AsyncClient`` whose event hook counts every request, a count the batch does
    not make itself."""
    inputs = [f"bench-{name}-{os.getpid()}-{i:07d}" for i in range(count)]
    counter = _Counter()
    samples: list[float] = []

    async def work() -> int:
        sampler = asyncio.ensure_future(_sample_rss(samples))
        try:
            return await _work()
        finally:
            sampler.cancel()

    async def _work() -> int:
        async with contextlib.AsyncExitStack() as stack:
            options: dict[str, Any] = {}
            if client == "hooks":  # the caller's client, closed by the caller
                options["http_client"] = await stack.enter_async_context(
                    httpx.AsyncClient(
                        event_hooks={"request": [counter]},
                        timeout=httpx.Timeout(75, connect=10),
                        limits=httpx.Limits(
                            max_connections=concurrency, max_keepalive_connections=concurrency
                        ),
                    )
                )
            return await _run(options)

    async def _run(options: dict[str, Any]) -> int:
        async with AsyncTruebit(api_key=key, base_url=url, **options) as tb:
            if name == "run_many":
                results = await tb.functions.run_many(NS, "echo", inputs, concurrency=concurrency)
                return sum(isinstance(r, FunctionResult) and r.ok for r in results)
            with tempfile.TemporaryDirectory() as tmp:
                async with AsyncBatch(
                    tb, Path(tmp) / "b.ledger", concurrency=concurrency, max_open=1000, rate=None
                ) as batch:
                    # A generator: the batch never holds the inputs whole (run_many needs a list).
                    summary = await batch.run_functions(NS, "echo", (x for x in inputs))
                    if client == "own":  # no hook: the batch's own count of its status reads
                        counter.reads = summary.reads_this_run
                    return summary.finished_ok

    measured = _measure(work)
    fifth = samples[len(samples) // 5] if samples else 0.0
    growth = (samples[-1] - fifth) if samples else 0.0
    reads: float | None = counter.reads / count
    if client == "own" and name == "run_many":
        reads = None  # not counted: its requests go through no hook
    measured.update(reads=reads, posts=counter.posts if client == "hooks" else None, rss_growth=growth)
    return measured


def bench_sandbox(
    count: int, concurrency: int, rounds: int = 4, late: float = 0.0, client: str = "own"
) -> None:
    """``late``: the node answers this many seconds late, so each task takes that long (as a real
    task does: several nodes run it and their answers are compared), and the sandbox runs up to 256
    at once; 0: the echo task's own few milliseconds, 8 at once. ``client``: see ``child_sandbox``."""
    from truebit_facade.sandbox import sandbox_process

    running = 256 if late else 8
    print(
        f"{count} echo tasks on the sandbox (its own process: --max-concurrent {running}, hold 2 s"
        + (f", each task {late:g} s late" if late else "")
        + f"), concurrency {concurrency}, each side in a fresh process, {rounds} rounds in alternating order, "
        + ("the client's own pool" if client == "own" else "a caller's httpx.AsyncClient counting requests")
    )
    warm = max(count // 5, 50)  # the warm-up run of each side (below)
    retained = 2 * (rounds * count + warm) + 10  # nothing evicted during the run: no side pays for it
    args = ["--hold", "2", "--max-concurrent", str(running), "--max-retained", str(retained)]
    if late:
        args += ["--faulty", f"0:slow:{late:g}", "--verification-timeout", "30"]
    print(
        f"  {'':9} {'ok':>6} {'wall s':>7} {'tasks/s':>7} {'reads/task':>10} {'POSTs':>6} "
        f"{'client CPU':>10} {'CPU ms/task':>11} {'peak RSS MiB':>12} {'(at start)':>10} {'RSS growth':>10}"
    )
    ratios = []

    def side(name: str, n: int) -> dict[str, Any]:
        cmd = [sys.executable, __file__, "--child", name, url, key, str(n), str(concurrency), client]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return dict(json.loads(done.stdout.splitlines()[-1]))

    with sandbox_process(*args) as (url, key):
        # A fresh sandbox speeds up over its first runs (about a tenth over the first 20,000 tasks
        # here): a warm-up run of each side, not counted, and each round in the other order than the
        # last (ABBA), so that neither side is always the one on the colder service.
        warmed = {name: warm / side(name, warm)["wall"] for name in ("batch", "run_many")}
        print(
            f"  warm-up, {warm} tasks each, not counted: batch {warmed['batch']:.0f}, "
            f"run_many {warmed['run_many']:.0f} tasks/s"
        )
        for round_ in range(rounds):
            rates = {}
            for name in ("batch", "run_many") if round_ % 2 == 0 else ("run_many", "batch"):
                m = side(name, count)
                rates[name] = count / m["wall"]
                reads = "-" if m["reads"] is None else f"{m['reads']:.2f}"
                posts = "-" if m["posts"] is None else str(m["posts"])
                print(
                    f"  {name:9} {m['result']:6d} {m['wall']:7.1f} {rates[name]:7.0f} {reads:>10} "
                    f"{posts:>6} {m['cpu'] / m['wall']:9.0%} {m['cpu'] / count * 1e3:11.2f} "
                    f"{m['rss_peak']:12.1f} {m['rss_before']:10.1f} {m['rss_growth']:+10.1f}"
                )
            ratios.append(rates["batch"] / rates["run_many"])
    shown = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"  batch / run_many tasks per second: {shown} (median {statistics.median(ratios):.2f})")


def bench_ledger(count: int, concurrency: int) -> None:
    print(f"{count} inputs through the ledger against a stub service (no HTTP), concurrency {concurrency}")
    poll = PollPolicy(initial=0.0, fraction=0.0, maximum=0.0, jitter=0.0)
    for durable in (True, False):
        stub = StubService(running_reads=1)

        async def work(durable: bool = durable, stub: StubService = stub) -> Any:
            with tempfile.TemporaryDirectory() as tmp:
                async with AsyncBatch(
                    stub,
                    Path(tmp) / "b.ledger",
                    concurrency=concurrency,
                    rate=None,
                    poll=poll,
                    durable=durable,
                ) as batch:
                    summary = await batch.run_functions(NS, "echo", (f"in-{i}" for i in range(count)))
                    size = sum(p.stat().st_size for p in Path(tmp).iterdir())
                    return summary, size

        m = _measure(work)
        summary, size = m["result"]
        assert summary.finished_ok == count
        wall, cpu = m["wall"], m["cpu"]
        print(
            f"  durable={durable!s:5}  {wall:6.1f} s, {wall / count * 1e6:4.0f} us/input wall, "
            f"{cpu / count * 1e6:4.0f} us CPU, {count / wall:6.0f} tasks/s, {summary.reads_per_task:.1f} reads/task, "
            f"peak RSS {m['rss_peak']:.0f} MiB (at start {m['rss_before']:.0f}), ledger {size / count:.0f} B/input"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--count", type=int, default=10_000, help="inputs against the sandbox (default 10000)"
    )
    parser.add_argument(
        "--ledger-count", type=int, default=100_000, help="inputs against the stub (default 100000)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="sandbox rounds, in alternating order (default 4)"
    )
    parser.add_argument(
        "--late",
        type=float,
        default=0.25,
        help="seconds each task takes in the second sandbox row (default 0.25)",
    )
    parser.add_argument("--only", choices=["sandbox", "ledger"])
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, url, key, count, concurrency, client = args.child
        print(json.dumps(child_sandbox(name, url, key, int(count), int(concurrency), client)))
        return
    if args.only in (None, "ledger"):
        bench_ledger(args.ledger_count, args.concurrency)
    if args.only in (None, "sandbox"):
        bench_sandbox(args.count, args.concurrency, args.rounds)
        # The same through a caller's client whose hook counts every request: the reads per task
        # of both sides counted by someone other than the batch.
        bench_sandbox(max(args.count // 5, 100), args.concurrency, args.rounds, client="hooks")
        bench_sandbox(max(args.count // 10, 100), args.concurrency, args.rounds, late=args.late)


if __name__ == "__main__":
    main()
