"""WebAssembly text of hostile function tasks, for the isolation tests (WASI preview 1, as an attacker
would write them by hand)."""

from __future__ import annotations

_IMPORTS = """
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link"
    (func $link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
"""

# Memory layout: 0 iovec, 8 count, 16 opened fd, 1024 target, 2048 "output.txt", 2100 "copy.txt",
# 2200 "blocked", 2300 "side.txt", 3000 poll subscription, 65536.. buffer.
_DATA = """
  (data (i32.const 2048) "output.txt")
  (data (i32.const 2100) "copy.txt")
  (data (i32.const 2200) "blocked")
  (data (i32.const 2300) "side.txt")
"""

_HELPERS = """
  ;; open NAME(ptr, len) in preopen DIR with OFLAGS; the fd, or -1
  (func $try_open (param $dir i32) (param $ptr i32) (param $len i32) (param $oflags i32) (result i32)
    (if (result i32) (call $open (local.get $dir) (i32.const 1) (local.get $ptr) (local.get $len)
          (local.get $oflags) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 16))
      (then (i32.const -1))
      (else (i32.load (i32.const 16)))))
  ;; write LEN bytes at PTR to FD
  (func $put (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  ;; copy up to 64 KiB from FD into output.txt; "blocked" if FD is -1
  (func $answer (param $fd i32) (local $out i32)
    (local.set $out (call $try_open (i32.const 3) (i32.const 2048) (i32.const 10) (i32.const 9)))
    (if (i32.lt_s (local.get $fd) (i32.const 0))
      (then (call $put (local.get $out) (i32.const 2200) (i32.const 7)) (return)))
    (i32.store (i32.const 0) (i32.const 65536))
    (i32.store (i32.const 4) (i32.const 65536))
    (drop (call $read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $put (local.get $out) (i32.const 65536) (i32.load (i32.const 8))))
"""


def _wat(body: str, data: str = "", pages: int = 2) -> str:
    return f'(module {_IMPORTS} (memory (export "memory") {pages}) {_DATA} {data} {_HELPERS} {body})'


def _quoted(text: str) -> str:
    return "".join(f"\\{b:02x}" for b in text.encode())


def thief(target: str) -> str:
    """Makes ``output.txt`` a symlink to ``target`` and ``copy.txt`` a hard link to it, then tries to
    read ``target`` through both preopens (as written, and without its leading ``/``) and to read
    ``output.txt`` and ``copy.txt``, copying the first it gets into ``output.txt``; answers
    ``blocked`` if it gets none."""
    stripped = target.lstrip("/") or "."
    data = f'(data (i32.const 1024) "{_quoted(target)}")(data (i32.const 1536) "{_quoted(stripped)}")'
    n, m = len(target.encode()), len(stripped.encode())
    body = f"""
  (func (export "_start") (local $fd i32)
    (drop (call $symlink (i32.const 1024) (i32.const {n}) (i32.const 3) (i32.const 2048) (i32.const 10)))
    (drop (call $link (i32.const 3) (i32.const 1) (i32.const 1024) (i32.const {n})
                      (i32.const 3) (i32.const 2100) (i32.const 8)))
    (local.set $fd (call $try_open (i32.const 3) (i32.const 1024) (i32.const {n}) (i32.const 0)))
    (if (i32.lt_s (local.get $fd) (i32.const 0))
      (then (local.set $fd (call $try_open (i32.const 4) (i32.const 1536) (i32.const {m}) (i32.const 0)))))
    (if (i32.lt_s (local.get $fd) (i32.const 0))
      (then (local.set $fd (call $try_open (i32.const 3) (i32.const 2100) (i32.const 8) (i32.const 0)))))
    (if (i32.lt_s (local.get $fd) (i32.const 0))
      (then (local.set $fd (call $try_open (i32.const 3) (i32.const 2048) (i32.const 10) (i32.const 0)))))
    (call $answer (local.get $fd)))
"""
    return _wat(body, data)


def writer(name: str = "side.txt") -> str:
    """Writes 1 MiB buffers to ``name`` forever, ignoring every error."""
    data = f'(data (i32.const 1024) "{_quoted(name)}")'
    body = f"""
  (func (export "_start") (local $fd i32)
    (local.set $fd (call $try_open (i32.const 3) (i32.const 1024) (i32.const {len(name.encode())}) (i32.const 9)))
    (loop $forever
      (call $put (local.get $fd) (i32.const 65536) (i32.const 1048576))
      (br $forever)))
"""
    return _wat(body, data, pages=18)


def sleeper() -> str:
    """Asks ``poll_oneoff`` to sleep an hour, then answers ``blocked``."""
    body = """
  (func (export "_start")
    (i64.store (i32.const 3000) (i64.const 1))            ;; userdata
    (i32.store8 (i32.const 3008) (i32.const 0))           ;; eventtype clock
    (i32.store (i32.const 3016) (i32.const 1))            ;; clock id monotonic
    (i64.store (i32.const 3024) (i64.const 3600000000000));; timeout: 1 hour
    (drop (call $poll (i32.const 3000) (i32.const 3100) (i32.const 1) (i32.const 8)))
    (call $answer (i32.const -1)))
"""
    return _wat(body)
