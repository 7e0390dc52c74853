"""The local dispatcher ("sandbox"): Truebit's task-execution API on this machine, with real WebAssembly.

Needs the ``sandbox`` extra (``pip install 'truebit-facade[sandbox]'``). Start it with
``truebit-sandbox`` / ``python -m truebit_facade.sandbox`` (see ``--help``), or in-process::

    from truebit_facade.sandbox import Sandbox, SandboxConfig, default_registry

    registry = default_registry()                       # fibonacci, echo, loop, trap in "3a2b5129"
    registry.add_function_task("mine", "double", Path("double.wat"), labels=["stable"])
    with Sandbox(SandboxConfig(hold_seconds=2), registry) as sb:
        ...  # sb.url, sb.api_key

Function tasks are WASI preview-1 modules that read ``input.txt`` and write ``output.txt`` (see
``_wasm``); ``totalSolutions`` simulated nodes sign their solutions and reach consensus (see ``_nodes``
for exactly what a node signs); executions live in SQLite (see ``_store``).

API tasks are OpenAPI 3 manifests of a target API (see ``_manifest`` for how an input is checked and
why it can never reach another host, ``_api_tasks`` for the call and the answer)::

    registry.add_api_task("mine", "orders", Path("orders.openapi.json"),
                          credentials=ApiCredentials(header={"X-Target-Key": "..."}, basic=("user", "pw")))

``example_target`` has a small target app, its manifest and :class:`~.example_target.ExampleTarget` to
serve it on loopback; ``register_example_api_task(registry, target.url)`` adds ``3a2b5129/custom``.

Fault injection (``SandboxConfig(faults=FaultConfig(rates={"503_retry_after": 0.2, "drop": 0.1}))``,
seeded, off by default) and the start counters behind ``GET /_sandbox/stats`` are described in
``_faults`` and ``_dispatcher``.

Tasks file
----------
TOML (any suffix but ``.json``) or JSON. Paths are relative to the file. Every key but ``namespace``,
``name`` and ``path`` is optional::

    [[task]]
    namespace = "62faaf33"          # the task's namespace
    name = "fibonacci"              # its name
    path = "tasks/fibonacci.wat"    # WebAssembly text (.wat) or binary (.wasm)
    version = 1                     # default: the next version of this name (from 1)
    labels = ["stable", "latest"]   # labels naming this version ("latest" defaults to the highest)
    gas_limit = 1000000000          # gasLimit when the request has none (integer or decimal string)
    memory_pages = 256              # linear memory cap, 64 KiB pages
    wall_clock_seconds = 5.0        # real-time cap of one run
    description = "n -> fib(n)"

An API task has ``kind = "api"`` and a ``manifest`` instead of ``path``; credentials are never
printed, and may come from the environment::

    [[task]]
    kind = "api"
    namespace = "3a2b5129"
    name = "orders"
    manifest = "orders.openapi.json" # OpenAPI 3 document (JSON); servers[0].url is the base
    base_url = "http://127.0.0.1:9000"  # optional: replaces servers[0].url
    labels = ["stable"]
    [task.credentials]              # all optional
    header = { "X-Target-Key" = "..." }
    header_env = { "X-Other-Key" = "OTHER_KEY" }   # value from the environment variable OTHER_KEY
    basic = ["user", "password"]    # or basic_env = ["USER_VAR", "PASSWORD_VAR"]

The JSON form is ``{"tasks": [{"namespace": ..., "name": ..., "path": ..., ...}]}`` with the same keys.
"""

import argparse
from collections.abc import Sequence

# What a user needs: serve the sandbox, configure it, register tasks, the example target. Internals
# (the dispatcher, the threaded server, the WASM runner, canonical JSON, node and hub keys) stay in
# their private modules; tests/test_public_surface.py pins this list.
from ._api_tasks import ApiCredentials, ApiTask
from ._app import STATS_PATH, create_app
from ._bounds import ApiInputLimits
from ._config import DEV_API_KEY, NodeFault, SandboxConfig, TaskLimits
from ._faults import FAULT_KINDS, FaultConfig
from ._manifest import Manifest
from ._nodes import node_address
from ._registry import EXAMPLES_NAMESPACE, FunctionTask, Task, TaskNotFound, TaskRegistry, default_registry
from ._server import Sandbox, sandbox_process, serve
from .example_target import ExampleTarget, example_registry, register_example_api_task


def main(argv: Sequence[str] | argparse.Namespace | None = None) -> int:
    """The ``truebit-sandbox`` command (``truebit sandbox``, ``python -m truebit_facade.sandbox``):
    serve until interrupted; ``--help`` lists its options. ``argv`` may be the arguments already
    parsed by a parser that :func:`add_arguments` filled (the ``truebit`` CLI reaches it so)."""
    from .__main__ import main as command  # on call: ``python -m`` runs that module as __main__

    return command(argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox command's options to ``parser`` (defined once, for ``truebit sandbox`` and
    ``truebit-sandbox`` alike)."""
    from .__main__ import add_arguments as add

    add(parser)


__all__ = [
    "DEV_API_KEY",
    "EXAMPLES_NAMESPACE",
    "FAULT_KINDS",
    "STATS_PATH",
    "ApiCredentials",
    "ApiInputLimits",
    "ApiTask",
    "ExampleTarget",
    "FaultConfig",
    "FunctionTask",
    "Manifest",
    "NodeFault",
    "Sandbox",
    "SandboxConfig",
    "Task",
    "TaskLimits",
    "TaskNotFound",
    "TaskRegistry",
    "add_arguments",
    "create_app",
    "default_registry",
    "example_registry",
    "main",
    "node_address",
    "register_example_api_task",
    "sandbox_process",
    "serve",
]
