"""``truebit-sandbox`` / ``python -m truebit_facade.sandbox``: serve the local dispatcher until Ctrl-C.

Prints the URL and the development API key, then serves the shipped example tasks (namespace
``3a2b5129``; ``--no-examples`` to leave them out) and those of ``--tasks`` files (format in the
package docstring). ``--example-target`` also serves the example target API on a free loopback port and
registers the API task ``3a2b5129/custom`` calling it.

Fault injection (off by default): ``--fault KIND=RATE`` (repeatable; kinds in ``_faults``),
``--fault-seed``, ``--slow-seconds``, ``--retry-after``, ``--fault-endpoint`` (repeatable).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._config import NodeFault, TaskLimits
    from ._faults import FaultConfig

__all__ = ["add_arguments", "main"]


def _rate(text: str) -> tuple[str, float]:
    from ._faults import FAULT_KINDS

    kind, sep, rate = text.partition("=")
    try:
        value = float(rate)
    except ValueError:
        value = -1.0
    if not sep or kind not in FAULT_KINDS or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"expected KIND=RATE with RATE in 0..1 and KIND one of {', '.join(FAULT_KINDS)}"
        )
    return kind, value


def _faults(args: argparse.Namespace) -> FaultConfig | None:
    from ._faults import FaultConfig

    if not args.fault:
        return None
    return FaultConfig(
        rates=dict(args.fault),
        seed=args.fault_seed,
        slow_seconds=args.slow_seconds,
        retry_after_seconds=args.retry_after,
        endpoints=tuple(args.fault_endpoint or ("execute", "status")),
    )


def _fault(text: str) -> tuple[int, NodeFault]:
    from ._config import NodeFault

    parts = text.split(":")
    try:
        index = int(parts[0])
        kind = parts[1]
        delay = float(parts[2]) if len(parts) > 2 else 0.0
        return index, NodeFault(kind, delay)  # type: ignore[arg-type]  # checked by NodeFault
    except (IndexError, ValueError) as exc:
        raise argparse.ArgumentTypeError(
            f"expected INDEX:KIND[:DELAY] with KIND wrong_output, slow or silent ({exc})"
        ) from None


#: The options setting a function task's default limits: option, ``TaskLimits`` field, type, metavar, help.
_TASK_LIMIT_OPTIONS: tuple[tuple[str, str, type, str, str], ...] = (
    (
        "--task-seconds", "wall_clock_seconds", float, "SECONDS",
        "wall-clock limit of one function-task run, host-side file work included (default 10)",
    ),
    (
        "--task-memory-pages", "memory_pages", int, "N",
        "linear-memory limit of a function task, in 64 KiB pages (default 2048)",
    ),
    ("--task-output-bytes", "output_bytes", int, "N", "largest output.txt a function task may write, as JSON text in the answer (default 16 MiB)"),
    (
        "--task-scratch-bytes", "scratch_bytes", int, "N",
        "most bytes a function task's files may hold at once, input.txt included (default 64 MiB)",
    ),
)  # fmt: skip


def _limits(args: argparse.Namespace) -> TaskLimits:
    from ._config import TaskLimits

    given = {field_name: getattr(args, field_name) for _, field_name, *_ in _TASK_LIMIT_OPTIONS}
    return TaskLimits(**{name: value for name, value in given.items() if value is not None})


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="truebit-sandbox",
        description="Truebit's task-execution API on this machine (the local dispatcher).",
    )
    add_arguments(p)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The sandbox's options, on ``truebit-sandbox``'s parser or on ``truebit sandbox``'s: defined once."""
    from ._config import DEV_API_KEY

    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 for a free one)")
    p.add_argument("--tasks", action="append", default=[], metavar="FILE", help="tasks file (TOML or JSON)")
    p.add_argument("--no-examples", action="store_true", help="do not register the shipped example tasks")
    p.add_argument("--db", metavar="FILE", help="SQLite file for executions (default: in memory)")
    p.add_argument("--hold", type=float, default=60.0, metavar="SECONDS", help="sync hold time (default 60)")
    p.add_argument("--api-key", default=DEV_API_KEY, help=f"the accepted API key (default {DEV_API_KEY})")
    p.add_argument(
        "--credit", type=int, default=None, help="executions the key may start (default unlimited)"
    )
    p.add_argument("--max-concurrent", type=int, default=4, help="executions running at once (default 4)")
    p.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="worker processes running function tasks, one run each at a time (default: one per core)",
    )  # fmt: skip
    p.add_argument(
        "--worker-memory", type=int, default=None, metavar="BYTES",
        help="resident memory a worker may reach during a run before it is killed and the run fails "
        "(default: 256 MiB plus twice what the task's limits allow)",
    )  # fmt: skip
    p.add_argument(
        "--max-retained", type=int, default=10_000, help="finished executions kept (default 10000)"
    )
    p.add_argument(
        "--max-stored-bytes", type=int, default=256 << 20, metavar="N",
        help="most bytes stored executions may hold; the oldest finished go first (default 256 MiB)",
    )  # fmt: skip
    p.add_argument(
        "--max-input-bytes", type=int, default=1 << 20, metavar="N",
        help="largest function-task input accepted, in UTF-8 bytes (default 1 MiB)",
    )  # fmt: skip
    p.add_argument("--node-seed", default="truebit-sandbox", help="seed of the nodes' keys")
    p.add_argument(
        "--faulty", action="append", default=[], type=_fault, metavar="INDEX:KIND[:DELAY]",
        help="make node INDEX faulty: wrong_output, slow (DELAY seconds late) or silent; repeatable",
    )  # fmt: skip
    p.add_argument("--verification-timeout", type=float, default=10.0, metavar="SECONDS")
    p.add_argument(
        "--example-target", action="store_true",
        help="serve the example target API on loopback and register the API task 3a2b5129/custom",
    )  # fmt: skip
    p.add_argument(
        "--max-execution-timeout", type=float, default=120.0, metavar="SECONDS",
        help="cap on an API task's executionTimeout (default 120)",
    )  # fmt: skip
    p.add_argument(
        "--fault", action="append", default=[], type=_rate, metavar="KIND=RATE",
        help="inject a fault with this probability per request: 500, 502, 503, 503_retry_after, 429_seconds, "
        "429_date, 520, drop, slow (before the dispatcher) or drop_after, 500_after, slow_after; repeatable",
    )  # fmt: skip
    p.add_argument("--fault-seed", type=int, default=0, help="seed of the fault generator (default 0)")
    p.add_argument("--slow-seconds", type=float, default=2.0, help="delay of slow faults (default 2)")
    p.add_argument(
        "--retry-after", type=int, default=1, metavar="SECONDS", help="Retry-After of faults (default 1)"
    )
    p.add_argument(
        "--fault-endpoint", action="append", default=[], metavar="NAME",
        help="where faults apply: execute, status, function-execute, function-status, api-execute, "
        "api-status or a /path prefix; repeatable (default execute and status)",
    )  # fmt: skip
    for option, field_name, kind, metavar, text in _TASK_LIMIT_OPTIONS:
        p.add_argument(option, dest=field_name, type=kind, default=None, metavar=metavar, help=text)
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def _log_to_stderr(level: str) -> None:
    """Show the sandbox's own log lines (logger ``truebit_facade.sandbox``) at ``level``, beside
    uvicorn's. They never carry a header value, a credential or an API key."""
    import logging

    logger = logging.getLogger("truebit_facade.sandbox")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_truebit_sandbox", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        handler._truebit_sandbox = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False


def main(argv: Sequence[str] | argparse.Namespace | None = None) -> int:
    """Serve until interrupted: ``argv`` is the command line (default ``sys.argv[1:]``), or the
    options already parsed by a parser :func:`add_arguments` built (``truebit sandbox``)."""
    args = argv if isinstance(argv, argparse.Namespace) else _parser().parse_args(argv)
    _log_to_stderr(args.log_level)
    from ._config import SandboxConfig
    from ._registry import TaskRegistry, default_registry
    from ._server import serve

    target = None
    try:
        registry = TaskRegistry() if args.no_examples else default_registry()
        for path in args.tasks:
            registry.load_tasks_file(path)
        if args.example_target:
            from .example_target import ExampleTarget, register_example_api_task

            target = ExampleTarget().start()
            register_example_api_task(registry, target.url)
        config = SandboxConfig(
            hold_seconds=args.hold,
            api_keys={args.api_key: args.credit},
            max_concurrent_executions=args.max_concurrent,
            workers=args.workers,
            worker_memory_bytes=args.worker_memory,
            max_retained_results=args.max_retained,
            max_stored_bytes=args.max_stored_bytes,
            max_input_bytes=args.max_input_bytes,
            db_path=args.db,
            node_seed=args.node_seed,
            faulty_nodes=dict(args.faulty),
            verification_timeout_seconds=args.verification_timeout,
            max_execution_timeout_seconds=args.max_execution_timeout,
            faults=_faults(args),
            default_limits=_limits(args),
        )
    except (ValueError, OSError, RuntimeError) as exc:
        if target is not None:
            target.stop()
        print(f"truebit-sandbox: {exc}", file=sys.stderr)
        return 2

    def announce(url: str) -> None:
        print(f"Truebit sandbox listening on {url}", flush=True)
        print(f"API key: {config.dev_api_key}", flush=True)
        print(f"Debug counters: GET {url}/_sandbox/stats", flush=True)
        if target is not None:
            print(f"Example target API on {target.url}", flush=True)
        if config.faults is not None:
            rates = ", ".join(f"{kind}={rate}" for kind, rate in config.faults.rates.items())
            print(f"Injecting faults (seed {config.faults.seed}): {rates}", flush=True)
        workers = config.workers or os.cpu_count() or 1
        print(f"Function tasks run in up to {workers} worker processes", flush=True)
        for task in registry.tasks():
            print(
                f"  {task.kind} task {task.namespace}/{task.name} v{task.version}  {task.description}",
                flush=True,
            )

    try:
        serve(config, registry, host=args.host, port=args.port, log_level=args.log_level, announce=announce)
    except OSError as exc:
        print(f"truebit-sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if target is not None:
            target.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
