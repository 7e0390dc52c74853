"""Tasks files (TOML or JSON; the format is in the package docstring): reading one into a registry.

``_registry`` calls this module (``TaskRegistry.load_tasks_file``); this one needs of the registry only
its two ``add_*`` methods and names its types for the type checker alone, so the two are no circle."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._api_tasks import ApiCredentials

if TYPE_CHECKING:
    from ._registry import Task, TaskRegistry

__all__ = ["load_tasks_file"]


def load_tasks_file(self: TaskRegistry, path: str | os.PathLike[str]) -> list[Task]:
    """Register every task of a tasks file (TOML or JSON, see the package docstring)."""
    file = Path(path)
    raw = file.read_bytes()
    try:
        if file.suffix.lower() == ".json":
            document: Any = json.loads(raw)
        else:
            document = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file}: cannot parse the tasks file: {exc}") from None
    entries = document.get("task", document.get("tasks")) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{file}: expected a list of tasks under 'task' (TOML) or 'tasks' (JSON)")
    return [_add_entry(self, file, i, entry) for i, entry in enumerate(entries)]


def _add_entry(self: TaskRegistry, file: Path, index: int, entry: Any) -> Task:
    where = f"{file}: task {index}"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a table/object")
    kind = entry.get("kind", "function")
    if kind not in ("function", "api"):
        raise ValueError(f"{where}: kind must be 'function' or 'api'")
    common = {"kind", "namespace", "name", "version", "labels", "description"}
    if kind == "function":
        known = common | {"path", "gas_limit", "memory_pages", "wall_clock_seconds"}
        source_key = "path"
    else:
        known = common | {"manifest", "base_url", "credentials"}
        source_key = "manifest"
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        namespace, name, source = entry["namespace"], entry["name"], entry[source_key]
    except KeyError as exc:
        raise ValueError(f"{where}: missing {exc.args[0]!r}") from None
    if not all(isinstance(v, str) for v in (namespace, name, source)):
        raise ValueError(f"{where}: namespace, name and {source_key} must be strings")
    labels = entry.get("labels", [])
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise ValueError(f"{where}: labels must be a list of strings")
    try:
        # What both kinds of registration take besides their own options.
        shared: dict[str, Any] = {
            "version": _opt_int(entry.get("version"), "version"),
            "labels": labels,
            "description": str(entry.get("description", "")),
        }
        source_path = (file.parent / source).resolve()
        if kind == "api":
            base_url = entry.get("base_url")
            if base_url is not None and not isinstance(base_url, str):
                raise ValueError("base_url must be a string")
            credentials = _credentials(entry.get("credentials"))
            return self.add_api_task(
                namespace, name, source_path, credentials=credentials, base_url=base_url, **shared
            )
        gas = entry.get("gas_limit")
        if isinstance(gas, str) and gas.isdigit():
            gas = int(gas)
        return self.add_function_task(
            namespace,
            name,
            source_path,
            gas_limit_default=_opt_int(gas, "gas_limit"),
            memory_pages=_opt_int(entry.get("memory_pages"), "memory_pages"),
            wall_clock_seconds=_opt_float(entry.get("wall_clock_seconds"), "wall_clock_seconds"),
            **shared,
        )
    except (ValueError, OSError) as exc:
        raise ValueError(f"{where} ({namespace}/{name}): {exc}") from None


def _credentials(value: Any) -> ApiCredentials | None:
    """``credentials`` of a tasks-file API entry: ``header``, ``header_env``, ``basic``, ``basic_env``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError("credentials must be a table/object")
    unknown = set(value) - {"header", "header_env", "basic", "basic_env"}
    if unknown:
        raise ValueError(f"unknown credentials keys {sorted(unknown)}")
    headers: dict[str, str] = {}
    for name, header_value in _str_map(value.get("header"), "credentials.header").items():
        headers[name] = header_value
    for name, variable in _str_map(value.get("header_env"), "credentials.header_env").items():
        headers[name] = _env(variable)
    basic: tuple[str, str] | None = None
    for key, from_env in (("basic", False), ("basic_env", True)):
        pair = value.get(key)
        if pair is None:
            continue
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise ValueError(f"credentials.{key} must be [user, password]")
        basic = (_env(pair[0]), _env(pair[1])) if from_env else (pair[0], pair[1])
    return ApiCredentials(header=headers, basic=basic)


def _str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{what} must map names to strings")
    return {str(k): v for k, v in value.items()}


def _env(variable: str) -> str:
    try:
        return os.environ[variable]
    except KeyError:
        raise ValueError(f"the environment variable {variable!r} (credentials) is not set") from None


def _opt_int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer")
    return value


def _opt_float(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number")
    return float(value)
