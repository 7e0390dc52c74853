"""Tasks the sandbox knows, by namespace, name, version and label: function tasks and API tasks.

A function task is a WebAssembly module (text or binary), registered with
:meth:`TaskRegistry.add_function_task`; an API task is an OpenAPI 3 manifest of a target API with
optional credentials, registered with :meth:`TaskRegistry.add_api_task`; both also from a tasks file
(:meth:`TaskRegistry.load_tasks_file`, format in the package docstring). Both kinds share the naming:
each registration of a name gets the next version number (from 1) unless one is given; labels name a
version and move when given to a newer one; ``latest`` names the highest version unless it was assigned
explicitly. A name holds one kind of task. :func:`default_registry` holds the shipped function examples.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeAlias, TypeVar

from ..rules import UINT32_MAX
from ._api_tasks import ApiCredentials, ApiTask
from ._config import TaskLimits
from ._manifest import Manifest
from ._modules import check_interface, to_wasm
from ._tasks_file import load_tasks_file

__all__ = ["EXAMPLES_NAMESPACE", "FunctionTask", "Task", "TaskNotFound", "TaskRegistry", "default_registry"]

#: The namespace the documentation's examples use; :func:`default_registry` puts its tasks there.
EXAMPLES_NAMESPACE = "3a2b5129"

_TASKS_DIR = Path(__file__).parent / "tasks"


class TaskNotFound(LookupError):
    """No task matches a request's namespace, name, version or label (the API answers 400)."""


@dataclass(frozen=True, eq=False)
class FunctionTask:
    """One registered version of a function task.

    ``wasm`` is the binary module; ``task_id`` is ``rs_`` and the SHA-256 of it, shaped like the
    platform's task ids. ``None`` limits fall back to the sandbox's ``default_limits``.
    """

    kind: ClassVar[str] = "function"

    namespace: str
    name: str
    version: int
    wasm: bytes
    task_id: str
    gas_limit_default: int | None = None
    memory_pages: int | None = None
    wall_clock_seconds: float | None = None
    description: str = ""

    def limits(self, defaults: TaskLimits) -> TaskLimits:
        """This task's limits, each missing one taken from ``defaults``."""
        return TaskLimits(
            gas_limit=defaults.gas_limit if self.gas_limit_default is None else self.gas_limit_default,
            memory_pages=defaults.memory_pages if self.memory_pages is None else self.memory_pages,
            wall_clock_seconds=(
                defaults.wall_clock_seconds if self.wall_clock_seconds is None else self.wall_clock_seconds
            ),
            output_bytes=defaults.output_bytes,
            scratch_bytes=defaults.scratch_bytes,
        )


#: A registered task of either kind (``task.kind`` is ``"function"`` or ``"api"``).
Task: TypeAlias = FunctionTask | ApiTask


_T = TypeVar("_T", FunctionTask, ApiTask)


def _checked_naming(namespace: str, name: str, labels: Iterable[str]) -> tuple[str, ...]:
    """The labels of a registration, once its names are checked (``ValueError``: before any work)."""
    if not namespace or not name:
        raise ValueError("namespace and name must be non-empty")
    labels = tuple(labels)
    if any(not label for label in labels):
        raise ValueError("a label cannot be empty")
    return labels


class TaskRegistry:
    """Tasks by namespace and name, with versions and labels. Safe to change while serving."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, str], dict[int, Task]] = {}
        self._labels: dict[tuple[str, str], dict[str, int]] = {}

    def _add(
        self, key: tuple[str, str], version: int | None, labels: tuple[str, ...], make: Callable[..., _T]
    ) -> _T:
        """Store the task ``make(namespace=, name=, version=)`` builds under the next (or the given)
        version of ``key``."""
        with self._lock:
            versions = self._versions.setdefault(key, {})
            if version is None:
                version = max(versions, default=0) + 1
            if not 0 <= version <= UINT32_MAX:
                raise ValueError(f"version must be in 0..{UINT32_MAX}")
            if version in versions:
                raise ValueError(f"{key[0]}/{key[1]} already has version {version}")
            task = make(namespace=key[0], name=key[1], version=version)
            kinds = {existing.kind for existing in versions.values()}
            if kinds and task.kind not in kinds:
                raise ValueError(
                    f"{key[0]}/{key[1]} is a {kinds.pop()} task: it cannot get a {task.kind} version"
                )
            versions[version] = task
            label_map = self._labels.setdefault(key, {})
            for label in labels:
                label_map[label] = version
        return task

    def add_function_task(
        self,
        namespace: str,
        name: str,
        wasm_or_wat: bytes | bytearray | str | os.PathLike[str],
        *,
        version: int | None = None,
        labels: Iterable[str] = (),
        gas_limit_default: int | None = None,
        memory_pages: int | None = None,
        wall_clock_seconds: float | None = None,
        description: str = "",
    ) -> FunctionTask:
        """Register a version of a function task and return it.

        ``wasm_or_wat``: binary module bytes, WebAssembly text (``str``), or a path to a ``.wat``/``.wasm``
        file. ``version``: ``None`` for the next number (1 for a new name); an existing version is a
        ``ValueError``. ``labels`` (e.g. ``"stable"``) are moved to this version. The module must
        export ``_start`` (WASI command) and may import only ``wasi_snapshot_preview1``.
        """
        labels = _checked_naming(namespace, name, labels)
        if gas_limit_default is not None and gas_limit_default < 0:
            raise ValueError("gas_limit_default must be >= 0")
        if memory_pages is not None and not 0 < memory_pages <= 65536:
            raise ValueError("memory_pages must be in 1..65536")
        if wall_clock_seconds is not None and wall_clock_seconds <= 0:
            raise ValueError("wall_clock_seconds must be > 0")
        wasm = to_wasm(wasm_or_wat)
        check_interface(wasm)
        make = functools.partial(
            FunctionTask,
            wasm=wasm,
            task_id="rs_" + hashlib.sha256(wasm).hexdigest(),
            gas_limit_default=gas_limit_default,
            memory_pages=memory_pages,
            wall_clock_seconds=wall_clock_seconds,
            description=description,
        )
        return self._add((namespace, name), version, labels, make)

    def add_api_task(
        self,
        namespace: str,
        name: str,
        manifest: Mapping[str, Any] | str | os.PathLike[str] | Manifest,
        *,
        version: int | None = None,
        labels: Iterable[str] = (),
        credentials: ApiCredentials | None = None,
        description: str = "",
        base_url: str | None = None,
    ) -> ApiTask:
        """Register a version of an API task and return it.

        ``manifest``: the target API's OpenAPI 3 document as a mapping, JSON text (a ``str`` starting
        with ``{``), a path to a JSON file, or a :class:`Manifest`; its ``servers[0].url`` is the base
        of every call, unless ``base_url`` replaces it. ``credentials`` (custom headers, basic auth) are
        injected into every call and never shown. ``version`` and ``labels`` as for function tasks.
        Raises ``ValueError`` for a manifest the sandbox cannot use.
        """
        labels = _checked_naming(namespace, name, labels)
        if credentials is not None and not isinstance(credentials, ApiCredentials):
            raise ValueError("credentials must be an ApiCredentials")
        if isinstance(manifest, Manifest):
            parsed = manifest if base_url is None else Manifest(manifest.document, base_url=base_url)
        else:
            parsed = Manifest(manifest, base_url=base_url)
        make = functools.partial(
            ApiTask,
            manifest=parsed,
            task_id="api_" + parsed.digest,
            credentials=credentials,
            description=description,
        )
        return self._add((namespace, name), version, labels, make)

    def resolve(
        self, namespace: str, name: str, *, version: int | None = None, label: str | None = None
    ) -> Task:
        """The task version a request names: by ``version``, else by ``label``, else ``latest``.

        When both are given the label must name that version. Raises :class:`TaskNotFound` with a
        message fit for the API's 400 answer. The task is of either kind (see ``task.kind``).
        """
        key = (namespace, name)
        with self._lock:
            versions = self._versions.get(key)
            if not versions:
                if not any(ns == namespace for ns, _ in self._versions):
                    raise TaskNotFound(f"unknown namespace {_quote(namespace)}")
                raise TaskNotFound(f"no task {_quote(name)} in namespace {_quote(namespace)}")
            labelled: int | None = None
            if label is not None:
                labelled = self._labels.get(key, {}).get(label)
                if labelled is None and label == "latest":
                    labelled = max(versions)
                if labelled is None:
                    raise TaskNotFound(f"task {_quote(name)} has no label {_quote(label)}")
            if version is not None:
                if version not in versions:
                    raise TaskNotFound(f"task {_quote(name)} has no version {version}")
                if labelled is not None and labelled != version:
                    raise TaskNotFound(
                        f"label {_quote(label or '')} names version {labelled} of {_quote(name)}, not {version}"
                    )
                return versions[version]
            if labelled is not None:
                return versions[labelled]
            latest = self._labels.get(key, {}).get("latest", max(versions))
            return versions[latest]

    def resolve_function(
        self, namespace: str, name: str, *, version: int | None = None, label: str | None = None
    ) -> FunctionTask:
        """:meth:`resolve`, for a function task only (:class:`TaskNotFound` for an API task)."""
        return _of_kind(self.resolve(namespace, name, version=version, label=label), FunctionTask)

    def resolve_api(
        self, namespace: str, name: str, *, version: int | None = None, label: str | None = None
    ) -> ApiTask:
        """:meth:`resolve`, for an API task only (:class:`TaskNotFound` for a function task)."""
        return _of_kind(self.resolve(namespace, name, version=version, label=label), ApiTask)

    def tasks(self) -> list[Task]:
        """Every registered task version (both kinds), sorted by namespace, name and version."""
        with self._lock:
            return sorted(
                (task for versions in self._versions.values() for task in versions.values()),
                key=lambda t: (t.namespace, t.name, t.version),
            )

    def labels(self, namespace: str, name: str) -> dict[str, int]:
        """The explicitly assigned labels of a task name and the versions they name."""
        with self._lock:
            return dict(self._labels.get((namespace, name), {}))

    def load_tasks_file(self, path: str | os.PathLike[str]) -> list[Task]:
        """Register every task of a tasks file (TOML or JSON, see the package docstring; ``_tasks_file``)."""
        return load_tasks_file(self, path)


_KIND_NAMES = {"function": "a function task", "api": "an API task"}


def _of_kind(task: Task, kind: type[_T]) -> _T:
    """``task`` if it is a ``kind``, else :class:`TaskNotFound` saying which kind it is."""
    if not isinstance(task, kind):
        raise TaskNotFound(
            f"{_quote(task.namespace)}/{_quote(task.name)} is {_KIND_NAMES[task.kind]}, not {_KIND_NAMES[kind.kind]}"
        )
    return task


def _quote(value: str) -> str:
    """A user-supplied string, shortened and ASCII-escaped, for an error message."""
    text = value if len(value) <= 80 else value[:80] + "..."
    return json.dumps(text)


_EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("fibonacci", {"description": "Input n (0..90) -> the n-th Fibonacci number: '22' -> '17711'."}),
    ("echo", {"description": "Output = input, byte for byte (JSON comes back unchanged)."}),
    ("loop", {"description": "Never ends: stopped by its gas limit.", "gas_limit_default": 100_000_000}),
    ("trap", {"description": "Fails at once with a WebAssembly trap."}),
)


def default_registry() -> TaskRegistry:
    """A registry with the shipped example tasks, version 1 labelled ``stable``, in namespace ``3a2b5129``.

    ``fibonacci`` ('22' -> '17711'), ``echo`` (output = input), ``loop`` (never ends; default gas
    100,000,000 so it fails fast) and ``trap`` (fails with a trap).
    """
    registry = TaskRegistry()
    for name, options in _EXAMPLES:
        registry.add_function_task(
            EXAMPLES_NAMESPACE, name, _TASKS_DIR / f"{name}.wat", labels=("stable",), **options
        )
    return registry
