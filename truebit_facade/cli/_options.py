"""The option groups of ``truebit``'s commands, each defined once and added to the commands that take
it, and the ``-V/--version`` action every command has."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .._settings import DEFAULT
from .._version import __version__
from ._exits import EXIT_NOT_FINISHED, EXIT_OK
from ._values import header, json_body, param, positive_seconds, timeout

VERSION = f"truebit-facade {__version__}"


def common_options(
    *, defaults: bool, json_help: str = "print one JSON object on stdout"
) -> argparse.ArgumentParser:
    """Options accepted before and after the command (``truebit --json run ...`` = ``truebit run ...
    --json``): the top level gives the defaults, a command's copy only sets what was typed there."""
    p = argparse.ArgumentParser(add_help=False)
    kw: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
    p.add_argument("--json", action="store_true", help=json_help, **kw)
    p.add_argument(
        "--debug", action="store_true", help="log requests (secrets redacted) and show tracebacks", **kw
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="the service's URL (default: $TRUEBIT_BASE_URL, else Truebit's)",
        **kw,
    )
    return p


class ProgramVersion(argparse.Action):
    """``-V/--version`` after a command: the program's version, as before it. Given a value (``--version
    2``, the task's version in older releases) it is a usage error, pointing at ``--task-version``
    where the command has it, never a version string printed where a script expects the output."""

    def __init__(
        self, option_strings: Sequence[str], dest: str, *, task_version: bool = False, **kwargs: Any
    ) -> None:
        kwargs.pop("default", None)
        super().__init__(option_strings, dest, nargs="?", default=argparse.SUPPRESS, **kwargs)
        self.task_version = task_version

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if values is not None:
            hint = f"; for the task's version use --task-version {values}" if self.task_version else ""
            parser.error(f"{option_string} prints the program's version{hint}")
        print(VERSION, flush=True)
        parser.exit(EXIT_OK)


def program_version(p: argparse.ArgumentParser, *, task_version: bool = False) -> None:
    p.add_argument(
        "-V",
        "--version",
        dest="program_version",
        action=ProgramVersion,
        task_version=task_version,
        metavar="",  # shown as plain -V: the value it takes is only there to be refused
        help="print the program's version",
    )


def wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        type=timeout,
        default=DEFAULT,
        metavar="SECONDS",
        help="overall wait deadline (default 1800; 'none' waits as long as it takes); when it passes, "
        f"the execution id is printed and the exit code is {EXIT_NOT_FINISHED}",
    )


def mode_options(p: argparse.ArgumentParser) -> None:
    """How ``run`` and ``call`` wait: see "Waiting and Ctrl-C" in docs/cli.md."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--poll",
        dest="wait_mode",
        action="store_const",
        const="poll",
        help="submit, then poll: the execution id is known at once, so Ctrl-C never loses it "
        "(the default on a terminal)",
    )
    group.add_argument(
        "--sync",
        dest="wait_mode",
        action="store_const",
        const="sync",
        help="one request the service holds until the task ends (up to 60 s), then poll: a request "
        "fewer for short tasks, but a Ctrl-C during the hold loses the execution id (the default "
        "off a terminal)",
    )


def task_arguments(p: argparse.ArgumentParser) -> None:
    """``NAMESPACE TASK``: the task a command runs."""
    p.add_argument("namespace", metavar="NAMESPACE")
    p.add_argument("task", metavar="TASK")


def version_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task-version", type=int, metavar="N", help="the task's version (default: latest)")
    p.add_argument("--label", help="the task's version by label, such as stable")
    program_version(p, task_version=True)


def function_options(p: argparse.ArgumentParser, total_default: int | None, *, each: bool = False) -> None:
    p.add_argument(
        "--total-solutions",
        type=int,
        default=total_default,
        metavar="N",
        help=f"nodes that solve {'each' if each else 'the'} task (default 1)",
    )
    p.add_argument(
        "--required-solutions",
        type=int,
        metavar="N",
        help="matching solutions needed for a verified result (default: all)",
    )
    p.add_argument("--gas-limit", type=int, metavar="N", help="instruction budget (default: the task's)")


def call_options(p: argparse.ArgumentParser, *, path_required: bool, method_default: str | None) -> None:
    p.add_argument(
        "--path",
        required=path_required,
        help="the manifest's path, such as '/store/order/{orderId}'" + ("" if path_required else " (--api)"),
    )
    p.add_argument("--method", default=method_default, help="HTTP method (default GET)")
    p.add_argument(
        "--param",
        dest="params",
        action="append",
        type=param,
        default=[],
        metavar="NAME=VALUE",
        help="fills {NAME} in the path or adds a query parameter; VALUE is JSON when it parses "
        "(Id=12345 is a number), else text; repeatable",
    )
    header_option(p, "a header injected into the outgoing call (secret: never printed); repeatable")
    p.add_argument("--body", type=json_body, metavar="JSON", help="the JSON request body")
    execution_timeout_option(
        p, default=30.0 if path_required else None, help="time limit of the outgoing call (default 30)"
    )


def header_option(p: argparse.ArgumentParser, help: str) -> None:
    p.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=header,
        default=[],
        metavar="'NAME: VALUE'",
        help=help,
    )


def execution_timeout_option(p: argparse.ArgumentParser, *, default: float | None, help: str) -> None:
    p.add_argument(
        "--execution-timeout", type=positive_seconds, default=default, metavar="SECONDS", help=help
    )


def waiting_options(p: argparse.ArgumentParser) -> None:
    """What ``run`` and ``call`` share after their own options: which version, and how to wait."""
    version_options(p)
    p.add_argument(
        "--async",
        dest="submit_only",
        action="store_true",
        help="submit and print the execution id at once, without waiting (= truebit submit)",
    )
    wait_options(p)
    mode_options(p)
