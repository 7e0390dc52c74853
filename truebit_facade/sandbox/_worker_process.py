"""The worker process: runs the function tasks its pool sends it, one at a time, in a :class:`WasmRunner`.

Started by ``_worker_pool`` as a fresh interpreter (what multiprocessing's ``spawn`` does, so it
inherits no threads, locks or event loop from the server) running :data:`BOOTSTRAP`, which loads this
module and the runner without the client package or the server: a worker starts in about a quarter of
a second, and never imports the parent's ``__main__`` (multiprocessing's spawn and forkserver would,
running an unguarded user script again in every worker). Its signal dispositions are set here, not
inherited: SIGINT is ignored (a Ctrl-C in the terminal reaches the whole process group; the server
decides what happens to runs, and kills its workers when it stops) and SIGTERM terminates. A worker
also runs at a lower scheduling priority (:data:`NICENESS`): when tasks keep every core busy, the
server still gets the CPU at once to answer.

The protocol over the one pipe to the pool (pickled tuples):

* the worker first sends ``("ready", pid)``;
* the pool sends ``(task_id, wasm, input_text, gas_limit, limits, started)``, where ``wasm`` is empty
  when the pool knows this worker has the module cached, ``limits`` the fields of the run's
  :class:`~._config.TaskLimits` as a dict, and ``started`` the pool's ``time.monotonic()``
  when it handed the run over (one clock for every process on the machine), so compiling and the
  hand-over count toward the wall clock;
* the worker answers ``("done", result, compiled, evicted)`` (``compiled``: this run compiled the
  module; ``evicted``: task ids dropped from its cache), ``("need",)`` when it has no module for an
  empty ``wasm``, or ``("error", text)`` for a fault of the sandbox itself;
* ``None`` or the end of the pipe: the worker exits.

If the server dies without a word, the worker notices at the end of its run (its own epoch deadline
bounds it) when the pipe ends.
"""

from __future__ import annotations

import os
import signal
import types
from multiprocessing.connection import Connection
from typing import NamedTuple

from ._wasm import ModuleMissing, WasmRunner

__all__ = ["BOOTSTRAP", "NICENESS", "serve"]

#: How much lower a worker's scheduling priority is than the server's (``os.nice``).
NICENESS = 5

#: ``python -c BOOTSTRAP FD PACKAGE_DIR``: the packages ``truebit_facade`` and ``truebit_facade.sandbox``
#: as bare modules with the right ``__path__`` (their ``__init__`` would import the whole client and
#: the server), then :func:`serve` on the socket ``FD``. Should a module of the runner come to need
#: the packages themselves, the worker loads them (slower to start, same behaviour).
BOOTSTRAP = """\
import os, sys, types
root = sys.argv[2]
for name, path in (("truebit_facade", root), ("truebit_facade.sandbox", os.path.join(root, "sandbox"))):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
try:
    from truebit_facade.sandbox._worker_process import serve
except ImportError:
    for name in [m for m in sys.modules if m.split(".")[0] == "truebit_facade"]:
        del sys.modules[name]
    from truebit_facade.sandbox._worker_process import serve
serve(int(sys.argv[1]))
"""


class _Module(NamedTuple):
    task_id: str
    wasm: bytes


def serve(fd: int) -> None:
    """The worker's main loop, on the connected socket ``fd``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conn = Connection(fd)
    runner = WasmRunner().start()
    if hasattr(os, "nice"):  # after starting: the first run should not wait for a slow start
        os.nice(NICENESS)
    try:
        conn.send(("ready", os.getpid()))
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message is None:
                return
            task_id, wasm, input_text, gas_limit, limits, started = message
            compiles = runner.compiles
            try:
                result = runner.run(
                    _Module(task_id, wasm),
                    input_text,
                    gas_limit=gas_limit,
                    limits=types.SimpleNamespace(**limits),  # type: ignore[arg-type]  # duck-typed TaskLimits
                    started=started,
                )
            except ModuleMissing:
                conn.send(("need",))
                continue
            except Exception as exc:  # a fault of the sandbox, not of the task
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
                continue
            conn.send(("done", result, runner.compiles > compiles, runner.take_evicted()))
    except (BrokenPipeError, EOFError, OSError):
        return
    finally:
        runner.release()
