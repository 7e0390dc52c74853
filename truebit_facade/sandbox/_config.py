"""The sandbox's settings: API keys and credit, hold time, bounds, nodes and their faults, task limits,
API-task bounds and fault injection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ._bounds import ApiInputLimits
from ._faults import FaultConfig

__all__ = ["DEV_API_KEY", "NodeFault", "SandboxConfig", "TaskLimits"]

#: The development API key every sandbox accepts unless ``api_keys`` says otherwise. It is printed on
#: start and is fixed (not random) so that configuration files and conformance tools can name it.
DEV_API_KEY = "sandbox-dev-key"

FaultKind = Literal["wrong_output", "slow", "silent"]


def _at_least(settings: object, minimum: int, *names: str) -> None:
    """``ValueError`` for the first of the fields ``names`` of ``settings`` below ``minimum``."""
    for name in names:
        if getattr(settings, name) < minimum:
            raise ValueError(f"{name} must be >= {minimum}")


@dataclass(frozen=True)
class NodeFault:
    """How one simulated node misbehaves.

    * ``wrong_output``: the node answers at once with an output that differs from the honest one (and
      from every other faulty node's, so faulty nodes never agree with each other), correctly signed.
    * ``slow``: the node answers the honest solution ``delay_seconds`` late; later than the verification
      window (``SandboxConfig.verification_timeout_seconds``) counts as no answer.
    * ``silent``: the node never answers.
    """

    kind: FaultKind
    delay_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("wrong_output", "slow", "silent"):
            raise ValueError(f"unknown node fault kind {self.kind!r}")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must be >= 0")


@dataclass(frozen=True)
class TaskLimits:
    """Resource limits of one function-task execution.

    ``gas_limit`` is the instruction budget (wasmtime fuel) used when a request has no ``gasLimit``;
    ``memory_pages`` caps linear memory (64 KiB pages); ``wall_clock_seconds`` stops a run that takes
    longer in real time whatever its gas (epoch interruption, and the file functions for host-side
    work); ``output_bytes`` caps ``output.txt``; ``scratch_bytes`` caps what all of the task's files
    (``input.txt`` included) hold at once. All are enforced during the run (see ``_task_files``).
    """

    gas_limit: int = 10_000_000_000
    memory_pages: int = 2048
    wall_clock_seconds: float = 10.0
    output_bytes: int = 16 << 20
    scratch_bytes: int = 64 << 20

    def __post_init__(self) -> None:
        _at_least(self, 0, "gas_limit")
        if not 0 < self.memory_pages <= 65536:
            raise ValueError("memory_pages must be in 1..65536")
        if self.wall_clock_seconds <= 0:
            raise ValueError("wall_clock_seconds must be > 0")
        _at_least(self, 1, "output_bytes", "scratch_bytes")


def _default_keys() -> dict[str, int | None]:
    return {DEV_API_KEY: None}


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox can be told; every field has the service-like default.

    * ``hold_seconds``: how long a synchronous request waits for the result before it answers with the
      execution id alone (the service holds 60 s; tests use a second or two).
    * ``api_keys``: accepted ``x-api-key`` values, each with its credit: the number of executions it may
      still start (one credit per accepted execution), ``None`` for unlimited. A key out of credit gets
      402. The first key is the one the sandbox prints and the one :class:`Sandbox` hands out.
    * ``max_concurrent_executions``: executions running WebAssembly at once; more wait in a queue (they
      report Running meanwhile).
    * ``max_retained_results``: finished executions kept; beyond it the oldest finished are forgotten
      (their ids then answer 404).
    * ``max_stored_bytes``: the most bytes the stored executions (requests and response bodies) may
      hold in all; beyond it the oldest finished are forgotten too (counted as ``evictedTotal`` in
      ``GET /_sandbox/stats``).
    * ``max_input_bytes``: the largest function-task ``input`` (UTF-8 bytes) accepted (400 beyond,
      before any charge); an input must also fit the task's ``scratch_bytes``.
    * ``db_path``: SQLite file for executions, so a restarted sandbox still answers for finished ones;
      ``None`` keeps them in memory.
    * ``node_seed``: node ``i``'s secp256k1 key is derived from ``(node_seed, i)``, so addresses are
      stable across runs.
    * ``faulty_nodes``: node index -> :class:`NodeFault`. An execution with ``totalSolutions = n`` is
      solved by nodes ``0 .. n-1``.
    * ``verification_timeout_seconds``: how long the dispatcher waits for solutions before it gives up
      with Indeterminate.
    * ``max_total_solutions``: the largest ``totalSolutions`` accepted (400 beyond).
    * ``default_limits``: limits for tasks registered without their own.
    * ``max_body_bytes``: the largest request body accepted (400 beyond).
    * ``max_execution_timeout_seconds``: the cap on an API task's ``executionTimeout`` (larger values
      are accepted and capped).
    * ``max_api_response_bytes``: the largest response an API task's target may send (Error beyond).
    * ``api_input_limits``: how many headers and parameters an API task's input may have, and how long
      they and its path may be (:class:`~._bounds.ApiInputLimits`; 400 beyond, before any charge).
    * ``faults``: fault injection (:class:`FaultConfig`); ``None``, the default, injects nothing.
    * ``workers``: worker processes that run function tasks (one run each at a time; ``None``, the
      default, is one per core). The server's own process never runs WebAssembly (see
      ``_worker_pool``).
    * ``worker_memory_bytes``: the resident memory a worker may reach during a run before it is
      killed and the run fails (a backstop behind the task's own limits); ``None``, the default, is
      256 MiB plus twice what the task's limits let it hold.
    """

    hold_seconds: float = 60.0
    api_keys: Mapping[str, int | None] = field(default_factory=_default_keys)
    max_concurrent_executions: int = 4
    max_retained_results: int = 10_000
    max_stored_bytes: int = 256 << 20
    max_input_bytes: int = 1 << 20
    db_path: str | None = None
    node_seed: str = "truebit-sandbox"
    faulty_nodes: Mapping[int, NodeFault] = field(default_factory=dict)
    verification_timeout_seconds: float = 10.0
    max_total_solutions: int = 16
    default_limits: TaskLimits = field(default_factory=TaskLimits)
    max_body_bytes: int = 1 << 20
    max_execution_timeout_seconds: float = 120.0
    max_api_response_bytes: int = 10 << 20
    api_input_limits: ApiInputLimits = field(default_factory=ApiInputLimits)
    faults: FaultConfig | None = None
    workers: int | None = None
    worker_memory_bytes: int | None = None

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise ValueError("api_keys needs at least one key")
        for key, credit in self.api_keys.items():
            if not key:
                raise ValueError("an API key cannot be empty")
            if credit is not None and credit < 0:
                raise ValueError(f"credit of key {key!r} must be >= 0 or None")
        _at_least(self, 0, "hold_seconds", "verification_timeout_seconds")
        _at_least(
            self,
            1,
            "max_concurrent_executions",
            "max_retained_results",
            "max_stored_bytes",
            "max_input_bytes",
            "max_total_solutions",
            "max_api_response_bytes",
        )
        if not 0 < self.max_execution_timeout_seconds <= 3600:
            raise ValueError("max_execution_timeout_seconds must be in (0, 3600]")
        if self.faults is not None and not isinstance(self.faults, FaultConfig):
            raise ValueError("faults must be a FaultConfig or None")
        if self.workers is not None and self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.worker_memory_bytes is not None and self.worker_memory_bytes < (64 << 20):
            raise ValueError("worker_memory_bytes must be at least 64 MiB")
        for index in self.faulty_nodes:
            if index < 0:
                raise ValueError("faulty node indexes start at 0")

    @property
    def dev_api_key(self) -> str:
        """The first configured key: the one printed on start."""
        return next(iter(self.api_keys))
