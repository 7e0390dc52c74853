"""``truebit-sandbox`` / ``python -m truebit_facade.sandbox``: serve the local dispatcher until Ctrl-C.

Prints the URL and the development API key, then serves the shipped example tasks (namespace
``3a2b5129``; ``--no-examples`` to leave them out) and those of ``--tasks`` files (format in the
package docstring).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._config import NodeFault

__all__ = ["main"]


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


def _parser() -> argparse.ArgumentParser:
    from ._config import DEV_API_KEY

    p = argparse.ArgumentParser(
        prog="truebit-sandbox",
        description="Truebit's task-execution API on this machine (the local dispatcher).",
    )
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
        "--max-retained", type=int, default=10_000, help="finished executions kept (default 10000)"
    )
    p.add_argument("--node-seed", default="truebit-sandbox", help="seed of the nodes' keys")
    p.add_argument(
        "--faulty", action="append", default=[], type=_fault, metavar="INDEX:KIND[:DELAY]",
        help="make node INDEX faulty: wrong_output, slow (DELAY seconds late) or silent; repeatable",
    )  # fmt: skip
    p.add_argument("--verification-timeout", type=float, default=10.0, metavar="SECONDS")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build the registry and serve until interrupted."""
    args = _parser().parse_args(argv)
    from ._config import SandboxConfig
    from ._registry import TaskRegistry, default_registry
    from ._server import serve

    try:
        registry = TaskRegistry() if args.no_examples else default_registry()
        for path in args.tasks:
            registry.load_tasks_file(path)
        config = SandboxConfig(
            hold_seconds=args.hold,
            api_keys={args.api_key: args.credit},
            max_concurrent_executions=args.max_concurrent,
            max_retained_results=args.max_retained,
            db_path=args.db,
            node_seed=args.node_seed,
            faulty_nodes=dict(args.faulty),
            verification_timeout_seconds=args.verification_timeout,
        )
    except (ValueError, OSError) as exc:
        print(f"truebit-sandbox: {exc}", file=sys.stderr)
        return 2

    def announce(url: str) -> None:
        print(f"Truebit sandbox listening on {url}", flush=True)
        print(f"API key: {config.dev_api_key}", flush=True)
        for task in registry.tasks():
            print(f"  task {task.namespace}/{task.name} v{task.version}  {task.description}", flush=True)

    try:
        serve(config, registry, host=args.host, port=args.port, log_level=args.log_level, announce=announce)
    except OSError as exc:
        print(f"truebit-sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
