"""The WASI preview-1 ABI as the sandbox's task files need it: error codes, flags, rights, the
layouts of the structures a module reads, and access to its linear memory. No policy here; see
``_task_files`` for what a task may do.

Memory access is checked before it happens: :meth:`_Memory.check` and :meth:`_Memory.buffers` raise
:class:`_Fault` (answered ``EFAULT``) for any region not wholly inside the module's memory, so a
function can check every pointer and length it will touch *before* it changes anything, as the WASI
spec wants (an ``EFAULT`` changes nothing).
"""

from __future__ import annotations

import struct
from typing import Any

MAX_FILES = 16
MAX_OPEN = 64
MAX_IOVECS = 1024
_MAX_NAME = 255
_STDERR_TAIL = 4096

# WASI preview-1 error codes (errno).
_OK, _ACCES, _BADF, _EXIST, _FAULT, _ILSEQ, _INVAL, _ISDIR = 0, 2, 8, 20, 21, 25, 28, 31
_MFILE, _NAMETOOLONG, _NOENT, _NOSPC, _NOTDIR, _NOTSUP, _PERM, _SPIPE, _IO = (
    33,
    37,
    44,
    51,
    54,
    58,
    63,
    70,
    29,
)
# File types, open flags, fd flags and rights.
_CHAR_DEVICE, _DIRECTORY, _REGULAR = 2, 3, 4
_O_CREAT, _O_DIRECTORY, _O_EXCL, _O_TRUNC = 1, 2, 4, 8
_FD_APPEND = 1
_R_DATASYNC, _R_READ, _R_WRITE, _R_ALLOCATE, _R_READDIR, _R_SET_SIZE = 1, 2, 64, 256, 1 << 14, 1 << 22
_ALL_RIGHTS = (1 << 29) - 1
_FDSTAT = struct.Struct("<BxH4xQQ")
_FILESTAT = struct.Struct("<QQB7xQQQQQ")
_PRESTAT = struct.Struct("<B3xI")
_IOVEC = struct.Struct("<II")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class _Fault(Exception):
    """A pointer outside the module's memory (answered with ``EFAULT``)."""


#: The inode of the task's directory; files get 2, 3, ... in the order they are created (never an
#: object address: it would leak the host's memory layout and change from run to run).
_DIRECTORY_INODE = 1
#: The inode reported for stdin, stdout and stderr (character devices, not files of the task).
_DEVICE_INODE = 0
_U32_MAX = 0xFFFFFFFF


class _File:
    __slots__ = ("data", "ino")

    def __init__(self, data: bytes = b"", ino: int = 0) -> None:
        self.data = bytearray(data)
        self.ino = ino


class _Handle:
    __slots__ = ("append", "file", "name", "pos", "preopen", "read", "write")

    def __init__(
        self, file: _File | None, *, read: bool = False, write: bool = False, preopen: str = ""
    ) -> None:
        self.file = file  # None: the (only) directory
        self.read = read
        self.write = write
        self.append = False
        self.pos = 0
        self.preopen = preopen
        self.name = ""


class _Memory:
    """Bounds-checked access to the calling module's linear memory."""

    __slots__ = ("caller", "memory", "size")

    def __init__(self, caller: Any) -> None:
        memory = caller.get("memory")
        if memory is None:
            raise _Fault
        self.caller = caller
        self.memory = memory
        self.size = memory.data_len(caller)

    def check(self, ptr: int, length: int) -> None:
        """:class:`_Fault` unless ``[ptr, ptr + length)`` lies inside the memory."""
        if ptr < 0 or length < 0 or ptr + length > self.size:
            raise _Fault

    def read(self, ptr: int, length: int) -> bytes:
        self.check(ptr, length)
        if length == 0:
            return b""
        return bytes(self.memory.get_buffer_ptr(self.caller, length, ptr))

    def write(self, ptr: int, data: bytes | bytearray) -> None:
        self.check(ptr, len(data))
        if data:
            self.memory.get_buffer_ptr(self.caller, len(data), ptr)[:] = data

    def u32(self, ptr: int, value: int) -> None:
        self.write(ptr, _U32.pack(value & 0xFFFFFFFF))

    def u64(self, ptr: int, value: int) -> None:
        self.write(ptr, _U64.pack(value & 0xFFFFFFFFFFFFFFFF))

    def iovecs(self, ptr: int, count: int) -> list[tuple[int, int]]:
        """The ``(pointer, length)`` pairs of an iovec array, not yet checked (see :meth:`buffers`)."""
        if not 0 <= count <= MAX_IOVECS:
            raise ValueError
        raw = self.read(ptr, count * _IOVEC.size)
        return [_IOVEC.unpack_from(raw, i * _IOVEC.size) for i in range(count)]

    def buffers(self, ptr: int, count: int) -> tuple[list[tuple[int, int]], int]:
        """The buffers of an iovec array, each checked to lie inside the memory, and their total
        length: :class:`_Fault` for any that does not, ``ValueError`` (``EINVAL``) if the total does not
        fit the u32 the call answers with."""
        buffers = self.iovecs(ptr, count)
        total = 0
        for start, length in buffers:
            self.check(start, length)
            total += length
        if total > _U32_MAX:
            raise ValueError
        return buffers, total
