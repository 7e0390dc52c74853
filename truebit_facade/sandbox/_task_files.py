"""A function task's files, in memory: what the module reaches through WASI preview-1 file calls.

The platform's contract is that a task reads ``input.txt`` and writes ``output.txt`` in its directory
(preopened as ``.`` on fd 3 and as ``/`` on fd 4). The sandbox gives the module exactly that, but not
with a preopened host directory: it replaces every WASI ``fd_*`` and ``path_*`` function (and
``poll_oneoff``) with its own, over a flat in-memory directory (:class:`TaskFiles`).

Why not a preopened directory (the way it used to be done):

* wasmtime meters neither the bytes written through a preopen nor its entries, so a task could fill the
  disk between two checks; wasmtime-py 50 offers a preopen only as "read-only" or "fully mutable"
  (entries, symlinks and all), not "writable files in a fixed directory";
* whatever the task leaves in a host directory, the host has to open afterwards: a symlink to
  ``/proc/self/environ`` or to the sandbox's own database, or a FIFO, then hands host content back or
  blocks the host, outside every limit.

Here nothing the task does touches the host's filesystem: there are no symlinks, hard links, FIFOs or
directories to make (those calls answer ``ENOTSUP``/``EPERM``), only regular files held in
``bytearray``\\ s. Every write is checked *before* it happens against the task's bounds, so they hold
during the run, not after it:

* ``scratch_bytes``: the most all of its files (``input.txt`` included) may hold at once; a write,
  truncate-up or allocate that would go beyond ends the run;
* ``output_bytes``: the most ``output.txt`` may hold; the same;
* the wall clock: every file call checks the run's deadline too, so host-side work done for the task
  is covered as well as WebAssembly execution (which the epoch deadline stops);
* at most :data:`MAX_FILES` files, :data:`MAX_OPEN` open descriptors and :data:`MAX_IOVECS` buffers
  per call (``ENOSPC``/``EMFILE``/``EINVAL`` beyond: the task can handle those).

Every pointer and length a call is given is checked against the module's memory before anything
happens (``_wasi_abi``): a write from a buffer past the end of memory, or of length 2^32-1, answers
``EFAULT`` and changes nothing (no byte written, no file grown, no quota charged). Inodes are small
integers from a counter (``_task_dir``), never object addresses. The state and its bounds live in
:class:`~._task_dir.TaskDirectory`; this module is the functions.

Ending a run from inside a host call: the call records the reason (:attr:`TaskFiles.failure`), takes
the store's remaining fuel to zero and returns an error code, so the module traps at its next fuel
check (raising from a wasmtime-py callback would go through a process-wide "last exception" slot that
concurrent runs would share). The runner reports the recorded reason, not "out of gas".

Nothing here blocks: stdin reads as empty, stdout is discarded, stderr keeps its last 4 KiB (the reason
of a failed run quotes its last line), and ``poll_oneoff`` (sleeping) is not supported.
"""

from __future__ import annotations

from typing import Any

from ._task_dir import TaskDirectory, output_text
from ._wasi_abi import (
    _ALL_RIGHTS,
    _BADF,
    _CHAR_DEVICE,
    _DEVICE_INODE,
    _DIRECTORY,
    _DIRECTORY_INODE,
    _EXIST,
    _FD_APPEND,
    _FDSTAT,
    _FILESTAT,
    _INVAL,
    _ISDIR,
    _MFILE,
    _NAMETOOLONG,
    _NOENT,
    _NOSPC,
    _NOTDIR,
    _NOTSUP,
    _O_CREAT,
    _O_DIRECTORY,
    _O_EXCL,
    _O_TRUNC,
    _OK,
    _PERM,
    _PRESTAT,
    _R_ALLOCATE,
    _R_DATASYNC,
    _R_READ,
    _R_READDIR,
    _R_SET_SIZE,
    _R_WRITE,
    _REGULAR,
    _SPIPE,
    _STDERR_TAIL,
    MAX_FILES,
    MAX_IOVECS,
    MAX_OPEN,
    _File,
    _Handle,
    _Memory,
)

__all__ = ["MAX_FILES", "MAX_IOVECS", "MAX_OPEN", "TaskFiles", "output_text"]


class TaskFiles(TaskDirectory):
    """The WASI preview-1 file functions over one run's files (see the module docstring); each takes
    the caller and its memory, then the call's arguments, and returns an errno."""

    def _write_at(
        self, caller: Any, memory: _Memory, handle: _Handle, iovs: int, count: int, at: int, out: int
    ) -> int:
        """Write the buffers at ``at``: the end position, or -1 if a bound ended the run. Every buffer
        and ``out`` are checked first, so a fault (``EFAULT``) neither grows the file nor charges the
        quota."""
        buffers, total = memory.buffers(iovs, count)
        memory.check(out, 4)
        file = handle.file
        assert file is not None
        if at < 0 or not self._grow(caller, handle.name, file, at + total):
            return -1
        for ptr, length in buffers:
            file.data[at : at + length] = memory.read(ptr, length)
            at += length
        return at

    # -- the WASI functions (each returns an errno) --------------------------------------------------

    def fd_write(self, caller: Any, memory: _Memory, fd: int, iovs: int, count: int, out: int) -> int:
        if fd in (1, 2) and fd in self.handles:
            buffers, total = memory.buffers(iovs, count)  # stdout is discarded, but checked the same
            memory.check(out, 4)
            if fd == 2:
                for ptr, length in buffers:  # only the last bytes are kept
                    kept = min(length, _STDERR_TAIL)
                    self.stderr += memory.read(ptr + length - kept, kept)
                    del self.stderr[:-_STDERR_TAIL]
            memory.u32(out, total)
            return _OK
        handle = self._file_for(fd, write=True)
        if isinstance(handle, int):
            return handle
        assert handle.file is not None
        start = len(handle.file.data) if handle.append else handle.pos
        end = self._write_at(caller, memory, handle, iovs, count, start, out)
        if end < 0:
            return _NOSPC
        handle.pos = end
        memory.u32(out, end - start)
        return _OK

    def fd_pwrite(
        self, caller: Any, memory: _Memory, fd: int, iovs: int, count: int, at: int, out: int
    ) -> int:
        handle = self._file_for(fd, write=True, positioned=True)
        if isinstance(handle, int):
            return handle
        end = self._write_at(caller, memory, handle, iovs, count, at, out)
        if end < 0:
            return _NOSPC
        memory.u32(out, end - at)
        return _OK

    def _read_at(self, memory: _Memory, handle: _Handle, iovs: int, count: int, at: int, out: int) -> int:
        """Read into the buffers from ``at``: how many bytes. The buffers and ``out`` are checked first."""
        assert handle.file is not None
        buffers, _ = memory.buffers(iovs, count)
        memory.check(out, 4)
        data = handle.file.data
        start = at
        for ptr, length in buffers:
            chunk = data[at : at + length]
            memory.write(ptr, chunk)
            at += len(chunk)
            if len(chunk) < length:
                break
        return at - start

    def fd_read(self, caller: Any, memory: _Memory, fd: int, iovs: int, count: int, out: int) -> int:
        if fd in (0, 1, 2) and fd in self.handles:
            memory.buffers(iovs, count)
            memory.u32(out, 0)  # stdin is empty
            return _OK
        handle = self._file_for(fd, write=False)
        if isinstance(handle, int):
            return handle
        n = self._read_at(memory, handle, iovs, count, handle.pos, out)
        handle.pos += n
        memory.u32(out, n)
        return _OK

    def fd_pread(
        self, caller: Any, memory: _Memory, fd: int, iovs: int, count: int, at: int, out: int
    ) -> int:
        handle = self._file_for(fd, write=False, positioned=True)
        if isinstance(handle, int):
            return handle
        if at < 0:
            return _INVAL
        memory.u32(out, self._read_at(memory, handle, iovs, count, at, out))
        return _OK

    def fd_seek(self, caller: Any, memory: _Memory, fd: int, offset: int, whence: int, out: int) -> int:
        if fd in (0, 1, 2) and fd in self.handles:
            return _SPIPE
        handle = self._open_file(fd)
        if isinstance(handle, int):
            return _BADF if handle == _ISDIR else handle
        assert handle.file is not None
        memory.check(out, 8)
        bases = {0: 0, 1: handle.pos, 2: len(handle.file.data)}
        if whence not in bases or bases[whence] + offset < 0:
            return _INVAL
        handle.pos = bases[whence] + offset
        memory.u64(out, handle.pos)
        return _OK

    def fd_tell(self, caller: Any, memory: _Memory, fd: int, out: int) -> int:
        return self.fd_seek(caller, memory, fd, 0, 1, out)

    def fd_close(self, caller: Any, memory: _Memory, fd: int) -> int:
        return _OK if self.handles.pop(fd, None) is not None else _BADF

    def fd_renumber(self, caller: Any, memory: _Memory, fd: int, to: int) -> int:
        if fd not in self.handles or to not in self.handles:
            return _BADF
        self.handles[to] = self.handles.pop(fd)
        return _OK

    def fd_fdstat_get(self, caller: Any, memory: _Memory, fd: int, out: int) -> int:
        handle = self.handles.get(fd)
        if handle is None:
            return _BADF
        if fd < 3 and handle.file is None and not handle.preopen:
            kind, flags = _CHAR_DEVICE, 0
        elif handle.file is None:
            kind, flags = _DIRECTORY, 0
        else:
            kind, flags = _REGULAR, _FD_APPEND if handle.append else 0
        memory.write(out, _FDSTAT.pack(kind, flags, _ALL_RIGHTS, _ALL_RIGHTS))
        return _OK

    def fd_fdstat_set_flags(self, caller: Any, memory: _Memory, fd: int, flags: int) -> int:
        handle = self.handles.get(fd)
        if handle is None:
            return _BADF
        handle.append = bool(flags & _FD_APPEND) and handle.file is not None
        return _OK

    def fd_filestat_get(self, caller: Any, memory: _Memory, fd: int, out: int) -> int:
        handle = self.handles.get(fd)
        if handle is None:
            return _BADF
        if handle.file is not None:
            kind, size, ino = _REGULAR, len(handle.file.data), handle.file.ino
        elif fd < 3 and not handle.preopen:
            kind, size, ino = _CHAR_DEVICE, 0, _DEVICE_INODE
        else:
            kind, size, ino = _DIRECTORY, 0, _DIRECTORY_INODE
        memory.write(out, _FILESTAT.pack(1, ino, kind, 1, size, 0, 0, 0))
        return _OK

    def fd_filestat_set_size(self, caller: Any, memory: _Memory, fd: int, size: int) -> int:
        handle = self._file_for(fd, write=True)
        if isinstance(handle, int):
            return handle
        if size < 0:
            return _INVAL
        assert handle.file is not None
        if not self._grow(caller, handle.name, handle.file, size):
            return _NOSPC
        self._shrink(handle.file, size)
        return _OK

    def fd_allocate(self, caller: Any, memory: _Memory, fd: int, offset: int, length: int) -> int:
        handle = self._file_for(fd, write=True)
        if isinstance(handle, int):
            return handle
        if offset < 0 or length < 0:
            return _INVAL
        assert handle.file is not None
        return _OK if self._grow(caller, handle.name, handle.file, offset + length) else _NOSPC

    def fd_prestat_get(self, caller: Any, memory: _Memory, fd: int, out: int) -> int:
        handle = self.handles.get(fd)
        if handle is None or not handle.preopen:
            return _BADF
        memory.write(out, _PRESTAT.pack(0, len(handle.preopen)))
        return _OK

    def fd_prestat_dir_name(self, caller: Any, memory: _Memory, fd: int, ptr: int, length: int) -> int:
        handle = self.handles.get(fd)
        if handle is None or not handle.preopen:
            return _BADF
        name = handle.preopen.encode()
        if length < len(name):
            return _NAMETOOLONG
        memory.write(ptr, name)
        return _OK

    def fd_advise(self, caller: Any, memory: _Memory, fd: int, *_: int) -> int:
        return self._valid(fd)

    fd_datasync = fd_sync = fd_filestat_set_times = fd_fdstat_set_rights = fd_advise

    def path_open(
        self,
        caller: Any,
        memory: _Memory,
        fd: int,
        lookup: int,
        ptr: int,
        length: int,
        oflags: int,
        rights: int,
        inheriting: int,
        fdflags: int,
        out: int,
    ) -> int:
        name = self._name_in(memory, fd, ptr, length)
        if isinstance(name, int):
            return name
        if len(self.handles) >= MAX_OPEN:
            return _MFILE
        memory.check(out, 4)  # before the file is created or truncated
        read = bool(rights & (_R_READ | _R_READDIR))
        write = bool(rights & (_R_DATASYNC | _R_WRITE | _R_ALLOCATE | _R_SET_SIZE))
        if name == "":
            if oflags & (_O_CREAT | _O_EXCL):
                return _EXIST
            if write or oflags & _O_TRUNC:
                return _ISDIR
            handle = _Handle(None)
        else:
            file = self.files.get(name)
            if file is None:
                if not oflags & _O_CREAT:
                    return _NOENT
                if oflags & _O_DIRECTORY:
                    return _NOTSUP
                if len(self.files) >= MAX_FILES:
                    return _NOSPC
                file = self.files[name] = _File(ino=self._next_ino)
                self._next_ino += 1
            elif oflags & _O_CREAT and oflags & _O_EXCL:
                return _EXIST
            elif oflags & _O_DIRECTORY:
                return _NOTDIR
            if oflags & _O_TRUNC:
                self._shrink(file, 0)
            handle = _Handle(file, read=read or not write, write=write)
            handle.name = name
            handle.append = bool(fdflags & _FD_APPEND)
        new_fd = self._next_fd
        self._next_fd += 1
        self.handles[new_fd] = handle
        memory.u32(out, new_fd)
        return _OK

    def path_filestat_get(
        self, caller: Any, memory: _Memory, fd: int, lookup: int, ptr: int, length: int, out: int
    ) -> int:
        name = self._name_in(memory, fd, ptr, length)
        if isinstance(name, int):
            return name
        file = self.files.get(name) if name else None
        if name and file is None:
            return _NOENT
        if file is not None:
            kind, size, ino = _REGULAR, len(file.data), file.ino
        else:
            kind, size, ino = _DIRECTORY, 0, _DIRECTORY_INODE
        memory.write(out, _FILESTAT.pack(1, ino, kind, 1, size, 0, 0, 0))
        return _OK

    def path_unlink_file(self, caller: Any, memory: _Memory, fd: int, ptr: int, length: int) -> int:
        name = self._name_in(memory, fd, ptr, length)
        if isinstance(name, int):
            return name
        if name == "":
            return _ISDIR
        file = self.files.pop(name, None)
        if file is None:
            return _NOENT
        if not any(h.file is file for h in self.handles.values()):
            self._shrink(file, 0)  # still open: its bytes stay counted until the run ends
        return _OK

    def path_rename(
        self, caller: Any, memory: _Memory, fd: int, ptr: int, length: int, fd2: int, ptr2: int, length2: int
    ) -> int:
        for directory in (self._dir(fd), self._dir(fd2)):
            if isinstance(directory, int):
                return directory
        old, new = self._path(memory, ptr, length), self._path(memory, ptr2, length2)
        if isinstance(old, int) or isinstance(new, int):
            return old if isinstance(old, int) else int(new)
        if old == "" or new == "":
            return _PERM
        file = self.files.pop(old, None)
        if file is None:
            return _NOENT
        replaced = self.files.get(new)
        if replaced is not None and replaced is not file:
            self._shrink(replaced, 0)
        self.files[new] = file
        for handle in self.handles.values():
            if handle.file is file:
                handle.name = new
        return _OK

    def path_filestat_set_times(
        self, caller: Any, memory: _Memory, fd: int, lookup: int, ptr: int, length: int, *_: int
    ) -> int:
        name = self._path(memory, ptr, length)
        if isinstance(name, int):
            return name
        return _OK if name == "" or name in self.files else _NOENT

    def refused(self, caller: Any, memory: _Memory, *_: int) -> int:
        """Directories, links and symlinks: none can be made (nor read: none exists)."""
        return _PERM

    def unsupported(self, caller: Any, memory: _Memory, *_: int) -> int:
        return _NOTSUP
