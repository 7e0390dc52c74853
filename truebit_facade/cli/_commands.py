"""The commands of ``truebit``: each takes the parsed arguments, the client and the output, does its
one thing through the public client, and returns the exit code. Errors go up to the entry point."""

from __future__ import annotations

import argparse
import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, Final

from .._errors import ValidationError
from .._models import ApiTaskResult, Execution, FunctionResult
from .._sync_client import Truebit
from . import _waiting as waiting
from ._exits import EXIT_USAGE
from ._parsing import SANDBOX_HINT
from ._render import Output, finish

Command = Callable[[argparse.Namespace, Truebit, Output], int]
Result = FunctionResult | ApiTaskResult


def is_api(args: argparse.Namespace) -> bool:
    """Whether the command is about an API task (its resume command then needs ``--api``)."""
    return args.command == "call" or bool(getattr(args, "api", False))


def _input(args: argparse.Namespace) -> str:
    return sys.stdin.read() if args.input == "-" else str(args.input)


def _function_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "version": args.task_version,
        "label": args.label,
        "total_solutions": 1 if args.total_solutions is None else args.total_solutions,
        "required_solutions": args.required_solutions,
        "gas_limit": args.gas_limit,
    }


def _call_options(args: argparse.Namespace) -> dict[str, Any]:
    options = {
        "path": args.path,
        "method": args.method or "GET",
        "params": dict(args.params) or None,
        "headers": dict(args.headers) or None,
        "body": args.body,
        "version": args.task_version,
        "label": args.label,
    }
    if args.execution_timeout is not None:
        options["execution_timeout"] = args.execution_timeout
    return options


def _execute(
    args: argparse.Namespace,
    client: Truebit,
    out: Output,
    label: str,
    *,
    submit: Callable[[], Execution],
    wait: Callable[..., Result],
    run: Callable[..., Result],
    api: bool,
) -> int:
    """``run`` and ``call``: submit only (``--async``), or wait in poll or sync mode (see ``_waiting``)."""
    if args.submit_only:
        return waiting.submit(out, submit, api=api)
    if waiting.mode(args.wait_mode) == "poll":
        return waiting.submit_then_wait(out, label, client, submit, wait, timeout=args.timeout, api=api)
    return waiting.wait(
        out, label, lambda on_status: run(timeout=args.timeout, raise_on_failure=False, on_status=on_status)
    )


def run(args: argparse.Namespace, client: Truebit, out: Output) -> int:
    where, text, options = (args.namespace, args.task), _input(args), _function_options(args)
    tasks = client.functions
    return _execute(
        args,
        client,
        out,
        f"running {args.namespace}/{args.task}",
        submit=lambda: tasks.submit(*where, text, **options),
        wait=tasks.wait,
        run=functools.partial(tasks.run, *where, text, **options),
        api=False,
    )


def call(args: argparse.Namespace, client: Truebit, out: Output) -> int:
    where, options = (args.namespace, args.task), _call_options(args)
    tasks = client.api_tasks
    return _execute(
        args,
        client,
        out,
        f"calling {args.namespace}/{args.task} {options['method']} {args.path}",
        submit=lambda: tasks.submit(*where, **options),
        wait=tasks.wait,
        run=functools.partial(tasks.run, *where, **options),
        api=True,
    )


_CALL_ONLY: Final = ("path", "method", "body", "execution_timeout")
_FUNCTION_ONLY: Final = ("total_solutions", "required_solutions", "gas_limit")


def submit(args: argparse.Namespace, client: Truebit, out: Output) -> int:
    """``truebit submit``: a function task's (or with ``--api`` an API task's) execution id at once."""
    if args.api:
        given = [name for name in _FUNCTION_ONLY if getattr(args, name) is not None]
        if args.input is not None:
            raise ValidationError("input", "an API task takes none (give --path, --param, --body)")
        if given:
            raise ValidationError(given[0], "for function tasks only, not with --api")
        if args.path is None:
            raise ValidationError("path", "required for an API task (the manifest's path)")
        options = _call_options(args)
        return waiting.submit(
            out, lambda: client.api_tasks.submit(args.namespace, args.task, **options), api=True
        )
    given = [name for name in _CALL_ONLY if getattr(args, name) is not None]
    if args.params or args.headers:
        given.append("params" if args.params else "headers")
    if given:
        raise ValidationError(given[0], "for API tasks only: add --api")
    if args.input is None:
        raise ValidationError(
            "input", "required for a function task ('-' reads stdin); for an API task add --api"
        )
    text, function_options = _input(args), _function_options(args)
    return waiting.submit(
        out, lambda: client.functions.submit(args.namespace, args.task, text, **function_options), api=False
    )


def status(args: argparse.Namespace, client: Truebit, out: Output) -> int:
    tasks = client.api_tasks if args.api else client.functions
    if not args.wait:
        return finish(out, tasks.get(args.execution_id), None)
    return waiting.wait(
        out,
        f"waiting for execution {args.execution_id}",
        lambda on_status: tasks.wait(
            args.execution_id, timeout=args.timeout, raise_on_failure=False, on_status=on_status
        ),
    )


def batch(args: argparse.Namespace, client: Truebit, out: Output) -> int:
    """``truebit batch``, imported only now: the batch package (SQLite, asyncio, attrs) is most of the
    command's start-up imports, which every other command would pay for, and be interruptible in."""
    from ._batch import handle

    return handle(args, client, out)


COMMANDS: Final[dict[str, Command]] = {
    "run": run,
    "call": call,
    "submit": submit,
    "status": status,
    "batch": batch,
}


def sandbox(args: argparse.Namespace, out: Output) -> int:
    """``truebit sandbox``: the sandbox's command with the options the parser read for it. A dependency
    it imports only when it starts (uvicorn) missing: the install hint and the usage exit code."""
    try:
        from truebit_facade.sandbox import main as serve

        return serve(args)
    except ImportError as exc:
        if args.debug:
            out.err(traceback.format_exc().rstrip())
        missing = f" (missing module {exc.name})" if exc.name else ""
        out.err(f"truebit: {SANDBOX_HINT}{missing}")
        return EXIT_USAGE
