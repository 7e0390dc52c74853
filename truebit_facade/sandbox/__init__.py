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

The JSON form is ``{"tasks": [{"namespace": ..., "name": ..., "path": ..., ...}]}`` with the same keys.
"""

from ._app import create_app
from ._config import DEV_API_KEY, NodeFault, SandboxConfig, TaskLimits
from ._dispatcher import Dispatcher
from ._nodes import node_private_key
from ._registry import EXAMPLES_NAMESPACE, FunctionTask, TaskNotFound, TaskRegistry, default_registry
from ._server import Sandbox, serve
from ._wasm import RunResult, WasmRunner

__all__ = [
    "DEV_API_KEY",
    "EXAMPLES_NAMESPACE",
    "Dispatcher",
    "FunctionTask",
    "NodeFault",
    "RunResult",
    "Sandbox",
    "SandboxConfig",
    "TaskLimits",
    "TaskNotFound",
    "TaskRegistry",
    "WasmRunner",
    "create_app",
    "default_registry",
    "node_private_key",
    "serve",
]
