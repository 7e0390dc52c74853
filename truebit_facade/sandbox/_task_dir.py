"""The state of one run's files and the bounds on it: what the WASI file functions (``_task_files``)
work on.

:class:`TaskDirectory` holds the flat directory (``input.txt`` and what the task creates), the open
descriptors, and the run's bounds: the write quota, the size of ``output.txt`` and the deadline, each
checked *before* the work it bounds (:meth:`TaskDirectory._grow` before a file grows). Files get small
inode numbers from a counter, in creation order (see ``_wasi_abi``). :func:`output_text` is what comes
back: ``output.txt`` as text the wire can carry.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ._wasi_abi import (
    _BADF,
    _DIRECTORY_INODE,
    _ILSEQ,
    _INVAL,
    _ISDIR,
    _MAX_NAME,
    _NAMETOOLONG,
    _NOENT,
    _NOTDIR,
    _OK,
    _PERM,
    _SPIPE,
    _File,
    _Handle,
    _Memory,
)

__all__ = ["TaskDirectory", "output_text"]


class TaskDirectory:
    """The files of one run: ``input.txt`` holding the input, and whatever the task creates.

    ``quota`` bounds the bytes all files hold, ``output_limit`` those of ``output.txt``, ``deadline``
    (``time.monotonic()``) the run's wall clock; ``failure`` is set when one of them ended the run.
    """

    def __init__(
        self, input_data: bytes, *, quota: int, output_limit: int, deadline: float, wall_clock: float
    ) -> None:
        self.files: dict[str, _File] = {"input.txt": _File(input_data, ino=_DIRECTORY_INODE + 1)}
        self._next_ino = _DIRECTORY_INODE + 2
        self.stored = len(input_data)
        self.quota = quota
        self.output_limit = output_limit
        self.deadline = deadline
        self.wall_clock = wall_clock
        self.failure: str | None = None
        self.fuel_left: int | None = None
        self.stderr = bytearray()
        self.handles: dict[int, _Handle] = {fd: _Handle(None) for fd in (0, 1, 2)}
        self.handles.update({3: _Handle(None, preopen="."), 4: _Handle(None, preopen="/")})
        self._next_fd = 5

    # -- what the runner asks after the run ----------------------------------------------------------

    def output(self) -> bytes | None:
        """The content of ``output.txt``, ``None`` if the task never created it."""
        file = self.files.get("output.txt")
        return None if file is None else bytes(file.data)

    def output_text(self) -> tuple[str, str]:
        """``(output, "")`` with ``output.txt`` as text, or ``("", why the run fails)``."""
        return output_text(self.output(), self.output_limit)

    # -- ending the run ------------------------------------------------------------------------------

    def fail(self, caller: Any, reason: str) -> None:
        """Record why the run ends (the first reason wins) and make the module trap at its next fuel
        check by taking the store's fuel to zero."""
        from wasmtime import Store

        if self.failure is None:
            self.failure = reason
            # wasmtime-py's fuel accessors use only the context, which a Caller has too.
            self.fuel_left = Store.get_fuel(caller)
        Store.set_fuel(caller, 0)

    def _late(self, caller: Any) -> bool:
        if self.failure is not None:
            return True
        if time.monotonic() > self.deadline:
            self.fail(caller, f"time limit: still running after {self.wall_clock:g} s")
            return True
        return False

    def _grow(self, caller: Any, name: str, file: _File, size: int) -> bool:
        """Make room for ``file`` to hold ``size`` bytes; ``False`` (and the run ends) over a bound."""
        extra = size - len(file.data)
        if extra <= 0:
            return True
        if name == "output.txt" and size > self.output_limit:
            self.fail(caller, f"output too large: output.txt would hold more than {self.output_limit} bytes")
            return False
        if self.stored + extra > self.quota:
            self.fail(caller, f"write quota: the task's files would hold more than {self.quota} bytes")
            return False
        file.data.extend(bytes(extra))
        self.stored += extra
        return True

    def _shrink(self, file: _File, size: int) -> None:
        if size < len(file.data):
            self.stored -= len(file.data) - size
            del file.data[size:]

    # -- helpers -------------------------------------------------------------------------------------

    def _path(self, memory: _Memory, ptr: int, length: int) -> str | int:
        """The single file name a path names (``""`` for the directory itself), or an errno."""
        if length > 4096:
            return _NAMETOOLONG
        try:
            path = memory.read(ptr, length).decode("utf-8")
        except UnicodeDecodeError:
            return _ILSEQ
        if "\0" in path:
            return _INVAL
        if path.startswith("/"):
            return _PERM
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if ".." in parts:
            return _PERM
        if len(parts) > 1:
            return _NOTDIR if parts[0] in self.files else _NOENT
        name = parts[0] if parts else ""
        if len(name.encode()) > _MAX_NAME:
            return _NAMETOOLONG
        if name and path.split("/")[-1] in ("", "."):
            # "name/" or "name/." names a directory (POSIX path resolution), and the only directory
            # is the task's own: a file there is not one, and no other can be made.
            return _NOTDIR if name in self.files else _NOENT
        return name

    def _dir(self, fd: int) -> _Handle | int:
        handle = self.handles.get(fd)
        if handle is None or fd < 3:
            return _BADF
        return handle if handle.file is None else _NOTDIR

    def _open_file(self, fd: int) -> _Handle | int:
        handle = self.handles.get(fd)
        if handle is None:
            return _BADF
        return _ISDIR if handle.file is None else handle

    def _file_for(self, fd: int, *, write: bool, positioned: bool = False) -> _Handle | int:
        """The file ``fd`` has open for writing (``write``) or reading, or an errno: ``ESPIPE`` for a
        ``positioned`` read or write on stdio, which has no position."""
        handle = self._open_file(fd)
        if isinstance(handle, int):
            return _SPIPE if positioned and fd in (0, 1, 2) and fd in self.handles else handle
        return handle if (handle.write if write else handle.read) else _BADF

    def _name_in(self, memory: _Memory, fd: int, ptr: int, length: int) -> str | int:
        """The file name a path in directory ``fd`` names (``""`` for the directory), or an errno."""
        directory = self._dir(fd)
        return directory if isinstance(directory, int) else self._path(memory, ptr, length)

    def _valid(self, fd: int) -> int:
        return _OK if fd in self.handles else _BADF


def output_text(data: bytes | None, limit: int) -> tuple[str, str]:
    """``(output, "")``: ``output.txt`` as the text the wire carries, or ``("", why the run fails)``.

    The spec's ``output`` is a string, so the bytes must be UTF-8: anything else would come back
    altered (replacement characters) under a verified status. Every node gets the same answer.
    """
    if data is None:
        return "", "empty output: the task wrote no output.txt"
    if len(data) > limit:  # pragma: no cover - the file functions stop the run first
        return "", f"output too large: more than {limit} bytes"
    if not data:
        return "", "empty output: output.txt is empty"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", f"output.txt is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    # The answer carries it as a JSON string, where a control character takes six bytes (\u0001):
    # the bound is on that, so that every output the sandbox accepts fits a client's answer bound.
    if len(data) * 6 > limit:
        encoded = len(json.dumps(text, ensure_ascii=False).encode("utf-8")) - 2  # not its two quotes
        if encoded > limit:
            return "", (
                f"output too large: output.txt is {len(data)} bytes, {encoded} as the answer's JSON text "
                f"(control characters, quotes and backslashes escaped), more than {limit} bytes"
            )
    return text, ""
