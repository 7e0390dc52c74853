"""The WebAssembly a function task may use, and what one run of it may claim.

**Proposals.** An engine from :func:`new_engine` accepts what Truebit's toolchains emit and nothing
else. Checked by compiling C (wasi-libc stdio and POSIX I/O), C++ (libc++ iostream/fstream) and Rust
(``std::fs``) WASI programs with Debian's clang 14 / lld / wasi-libc and rustc 1.63 ``wasm32-wasi``, with
their default target features and with every feature newer defaults turn on (``-mbulk-memory
-msign-ext -mmutable-globals -mnontrapping-fptoint -mmultivalue -mreference-types``; Rust
``+bulk-memory,+sign-ext,+nontrapping-fptoint``), then switching each proposal off and validating:

* on, and always on in wasmtime: the MVP, mutable globals, sign extension, non-trapping float-to-int,
  extended constant expressions;
* on (:data:`ENABLED`): bulk memory (newer clang and rustc defaults emit ``memory.copy`` /
  ``memory.fill``: programs built with it do not validate without it), multi-value (newer defaults;
  allocates nothing), reference types (newer defaults; it also cannot be switched off in wasmtime-py 50,
  whose engine then refuses the configuration). What reference types let a module allocate (more
  tables, ``table.grow``, ``table.fill``) is bounded by the store limits below; an ``externref`` can
  only come from the host, and no host function here makes one;
* off (:data:`DISABLED`): multi-memory, threads and shared memory, memory64, custom page sizes, SIMD and
  relaxed SIMD (no default target emits them, and their NaN results differ between machines), tail
  calls, exceptions, function references, GC, stack switching, wide arithmetic, the component model.
  A module using one is refused when it is registered, with wasmtime's reason (``SIMD support is not
  enabled``, ``multiple memories``, ...).

**Store limits** (:func:`store_limits`, applied by :func:`apply_limits` before instantiation): one
instance (the task: WASI is host functions, not an instance), one linear memory of at most
``memory_pages`` (wasmtime's limit is per memory; with one memory it is the total), at most
:data:`MAX_TABLES` tables of at most :func:`table_elements_for` elements each. A table element costs
host memory outside linear memory (measured: 8 bytes per ``funcref``; one unbounded ``table.grow`` of
100M entries took 762 MiB), so the tables get their own bound derived from the memory limit: all
tables together can hold at most as many bytes as the memory limit allows (never fewer than
:data:`MIN_TABLE_ELEMENTS` elements per table). A ``memory.grow`` or ``table.grow`` past a bound returns
-1, as the WebAssembly spec says (the program sees an allocation failure and nothing is allocated); a
module whose declared minimum is past a bound fails at instantiation (``memory limit: ...``). The
bulk-memory operations (``memory.fill``, ``memory.copy``, ``memory.init``, ``table.*``) touch only memory
and tables that exist: out of bounds they trap before writing anything, so they are bounded by these
limits, not only by gas. The wasm stack is wasmtime's ``max_wasm_stack`` (512 KiB by default).

Each linear memory also reserves address space (wasmtime's ``memory_reservation`` and guard, several
GiB of *virtual* memory, not resident): an ``RLIMIT_AS`` backstop must allow for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._config import TaskLimits

__all__ = [
    "DISABLED",
    "ENABLED",
    "MAX_INSTANCES",
    "MAX_MEMORIES",
    "MAX_TABLES",
    "MIN_TABLE_ELEMENTS",
    "TABLE_ELEMENT_BYTES",
    "StoreLimits",
    "apply_limits",
    "limit_reason",
    "new_engine",
    "store_limits",
    "table_elements_for",
]

#: Proposals switched on beyond what wasmtime always accepts (see the module docstring for why).
ENABLED = ("wasm_bulk_memory", "wasm_multi_value", "wasm_reference_types")
#: Proposals switched off: a module using one does not validate.
DISABLED = (
    "wasm_multi_memory",
    "wasm_threads",
    "wasm_memory64",
    "wasm_custom_page_sizes",
    "wasm_simd",
    "wasm_relaxed_simd",
    "wasm_tail_call",
    "wasm_exceptions",
    "wasm_function_references",
    "wasm_gc",
    "wasm_stack_switching",
    "wasm_wide_arithmetic",
    "wasm_component_model",
)

MAX_INSTANCES = 1
MAX_MEMORIES = 1
MAX_TABLES = 4
#: Host bytes charged per table element (wasmtime stores a ``funcref`` as one pointer).
TABLE_ELEMENT_BYTES = 8
#: The least any table may hold, whatever the memory limit (real programs' tables hold a few thousand).
MIN_TABLE_ELEMENTS = 10_000


def new_engine() -> Any:
    """A wasmtime engine with fuel metering, epoch interruption and exactly the proposals above; every
    runner and the validation at registration use one, so what registers is what runs."""
    from wasmtime import Config, Engine

    config = Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    for name in DISABLED:
        setattr(config, name, False)
    for name in ENABLED:
        setattr(config, name, True)
    config.shared_memory = False
    return Engine(config)


@dataclass(frozen=True)
class StoreLimits:
    """What one run's store may hold (``Store.set_limits`` arguments; see the module docstring)."""

    memory_bytes: int
    table_elements: int
    tables: int = MAX_TABLES
    memories: int = MAX_MEMORIES
    instances: int = MAX_INSTANCES

    @property
    def table_bytes(self) -> int:
        """The most host memory all tables together can take."""
        return self.tables * self.table_elements * TABLE_ELEMENT_BYTES


def table_elements_for(memory_bytes: int) -> int:
    """Elements per table such that :data:`MAX_TABLES` full tables cost at most ``memory_bytes``."""
    return max(MIN_TABLE_ELEMENTS, memory_bytes // (TABLE_ELEMENT_BYTES * MAX_TABLES))


def store_limits(limits: TaskLimits) -> StoreLimits:
    """The store limits of a run under ``limits``."""
    memory_bytes = limits.memory_pages * 65536
    return StoreLimits(memory_bytes=memory_bytes, table_elements=table_elements_for(memory_bytes))


def apply_limits(store: Any, limits: TaskLimits) -> StoreLimits:
    """Set the store limits of a run under ``limits`` on ``store`` (before anything is instantiated)."""
    bounds = store_limits(limits)
    store.set_limits(
        memory_size=bounds.memory_bytes,
        table_elements=bounds.table_elements,
        instances=bounds.instances,
        tables=bounds.tables,
        memories=bounds.memories,
    )
    return bounds


def limit_reason(message: str) -> str | None:
    """``memory limit: ...`` if wasmtime's error ``message`` says a store limit refused something (a
    declared minimum past a bound, too many tables, memories or instances), else ``None``."""
    if "exceeds memory limits" in message or "exceeds table limits" in message or "resource limit" in message:
        return f"memory limit: {message}"
    if "memory" in message and "limit" in message:
        return f"memory limit: {message}"
    return None
