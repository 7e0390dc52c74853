"""Where the task files meet wasmtime: each WASI file function the sandbox replaces, its signature,
and the host function that dispatches it to the :class:`~._task_files.TaskFiles` of the run on the
calling thread, never letting an exception cross into wasmtime.

Every ``i32`` argument reaches the task files as the unsigned value WASI means (wasmtime hands them
over signed): a pointer or length of 2^31 or more is a real one, checked against memory like any
other, not a negative number."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ._task_files import TaskFiles
from ._wasi_abi import (
    _BADF,
    _FAULT,
    _INVAL,
    _IO,
    _Fault,
    _Memory,
)

__all__ = ["define_task_files"]

#: Each replaced function, its parameter types (i: i32, I: i64; every result is one i32 errno) and the
#: :class:`TaskFiles` method that implements it.
_FUNCTIONS: dict[str, tuple[str, str]] = {
    "fd_advise": ("iIIi", "fd_advise"),
    "fd_allocate": ("iII", "fd_allocate"),
    "fd_close": ("i", "fd_close"),
    "fd_datasync": ("i", "fd_datasync"),
    "fd_fdstat_get": ("ii", "fd_fdstat_get"),
    "fd_fdstat_set_flags": ("ii", "fd_fdstat_set_flags"),
    "fd_fdstat_set_rights": ("iII", "fd_fdstat_set_rights"),
    "fd_filestat_get": ("ii", "fd_filestat_get"),
    "fd_filestat_set_size": ("iI", "fd_filestat_set_size"),
    "fd_filestat_set_times": ("iIIi", "fd_filestat_set_times"),
    "fd_pread": ("iiiIi", "fd_pread"),
    "fd_prestat_get": ("ii", "fd_prestat_get"),
    "fd_prestat_dir_name": ("iii", "fd_prestat_dir_name"),
    "fd_pwrite": ("iiiIi", "fd_pwrite"),
    "fd_read": ("iiii", "fd_read"),
    "fd_readdir": ("iiiIi", "unsupported"),
    "fd_renumber": ("ii", "fd_renumber"),
    "fd_seek": ("iIii", "fd_seek"),
    "fd_sync": ("i", "fd_sync"),
    "fd_tell": ("ii", "fd_tell"),
    "fd_write": ("iiii", "fd_write"),
    "path_create_directory": ("iii", "refused"),
    "path_filestat_get": ("iiiii", "path_filestat_get"),
    "path_filestat_set_times": ("iiiiIIi", "path_filestat_set_times"),
    "path_link": ("iiiiiii", "refused"),
    "path_open": ("iiiiiIIii", "path_open"),
    "path_readlink": ("iiiiii", "refused"),
    "path_remove_directory": ("iii", "refused"),
    "path_rename": ("iiiiii", "path_rename"),
    "path_symlink": ("iiiii", "refused"),
    "path_unlink_file": ("iii", "path_unlink_file"),
    "poll_oneoff": ("iiii", "unsupported"),
}


def define_task_files(linker: Any, current: threading.local) -> None:
    """Replace the WASI file functions in ``linker`` (which already has WASI defined) with ones over
    ``current.files``: the :class:`TaskFiles` of the run on the calling thread."""
    from wasmtime import FuncType, ValType

    kinds = {"i": ValType.i32(), "I": ValType.i64()}
    linker.allow_shadowing = True
    for name, (params, method) in _FUNCTIONS.items():
        ty = FuncType([kinds[p] for p in params], [ValType.i32()])
        host = _host(current, method, params)
        linker.define_func("wasi_snapshot_preview1", name, ty, host, access_caller=True)
    linker.allow_shadowing = False


def _host(current: threading.local, method: str, params: str) -> Callable[..., int]:
    unsigned = tuple(kind == "i" for kind in params)

    def call(caller: Any, *args: int) -> int:
        files: TaskFiles | None = getattr(current, "files", None)
        if files is None:
            return _BADF
        values = [a & 0xFFFFFFFF if u else a for a, u in zip(args, unsigned, strict=True)]
        try:
            if files._late(caller):
                return _IO
            result: int = getattr(files, method)(caller, _Memory(caller), *values)
            return result
        except _Fault:
            return _FAULT
        except ValueError:
            return _INVAL
        except Exception:  # never let an exception cross into wasmtime (see the module docstring)
            return _IO

    return call
