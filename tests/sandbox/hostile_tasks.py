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
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fstat (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get"
    (func $stat (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $rename (param i32 i32 i32 i32 i32 i32) (result i32)))
"""

# Memory layout: 0 iovec, 8 count, 16 opened fd, 1024 target, 2048 "output.txt", 2100 "copy.txt",
# 2200 "blocked", 2300 "side.txt", 2400.. more names, 3000 poll subscription, 4000 filestat,
# 8000..8020 digits, 8192.. the report (see $num), 65536.. buffer.
_DATA = """
  (data (i32.const 2048) "output.txt")
  (data (i32.const 2100) "copy.txt")
  (data (i32.const 2200) "blocked")
  (data (i32.const 2300) "side.txt")
  (data (i32.const 2400) "a.txt")
  (data (i32.const 2410) "b.txt")
  (data (i32.const 2420) "c.txt")
  (data (i32.const 2430) "input.txt")
  (data (i32.const 2440) ".")
  (data (i32.const 2450) "grown")
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
  ;; the report: decimal numbers, each followed by a space, collected at 8192 and written by $report
  (global $len (mut i32) (i32.const 0))
  (func $num (param $v i32) (local $p i32)
    (local.set $p (i32.const 8020))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digits (local.get $v)))
    (memory.copy (i32.add (i32.const 8192) (global.get $len)) (local.get $p)
                 (i32.sub (i32.const 8020) (local.get $p)))
    (global.set $len (i32.add (global.get $len) (i32.sub (i32.const 8020) (local.get $p))))
    (i32.store8 (i32.add (i32.const 8192) (global.get $len)) (i32.const 32))
    (global.set $len (i32.add (global.get $len) (i32.const 1))))
  (func $report
    (call $put (call $try_open (i32.const 3) (i32.const 2048) (i32.const 10) (i32.const 9))
               (i32.const 8192) (global.get $len)))
  ;; the inode (low 32 bits) and size of FD, or of NAME in the directory if FD is -1; high bits must be 0
  (func $ino (param $fd i32) (param $ptr i32) (param $len i32) (result i32)
    (drop (if (result i32) (i32.ge_s (local.get $fd) (i32.const 0))
      (then (call $fstat (local.get $fd) (i32.const 4000)))
      (else (call $stat (i32.const 3) (i32.const 0) (local.get $ptr) (local.get $len) (i32.const 4000)))))
    (if (i32.load (i32.const 4012)) (then unreachable))
    (i32.load (i32.const 4008)))
  (func $size (param $fd i32) (result i32)
    (drop (call $fstat (local.get $fd) (i32.const 4000)))
    (i32.load (i32.const 4032)))
"""


def _wat(body: str, data: str = "", pages: int = 2, memory: str = "") -> str:
    memory = memory or f'(memory (export "memory") {pages})'
    return f"(module {_IMPORTS} {memory} {_DATA} {data} {_HELPERS} {body})"


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


# -- resource bounds ---------------------------------------------------------------------------------


def table_grower(entries: int) -> str:
    """One ``table.grow`` of ``entries`` funcref elements: traps if it is refused, else answers
    ``grown``."""
    body = f"""
  (table $t 1 funcref)
  (func (export "_start")
    (if (i32.eq (table.grow $t (ref.null func) (i32.const {entries})) (i32.const -1)) (then unreachable))
    (call $put (call $try_open (i32.const 3) (i32.const 2048) (i32.const 10) (i32.const 9))
               (i32.const 2450) (i32.const 5)))
"""
    return _wat(body)


def declared_tables(count: int, entries: int) -> str:
    """``count`` tables of ``entries`` elements each, declared (allocated at instantiation)."""
    tables = " ".join(f"(table {entries} funcref)" for _ in range(count))
    return _wat(tables + ' (func (export "_start") (call $num (i32.const 1)) (call $report))')


def many_memories(count: int, pages: int) -> str:
    """``count`` linear memories of ``pages`` pages (needs multi-memory)."""
    memories = " ".join(f"(memory {pages})" for _ in range(count - 1))
    return _wat(memories + ' (func (export "_start") (call $report))')


def bulk(op: str, length: int, pages: int = 16) -> str:
    """Reports ``memory.grow`` by 1000 pages (-1 when refused), then runs ``memory.fill`` or
    ``memory.copy`` over ``length`` bytes from address 65536, then reports ``1``."""
    args = "(i32.const 0xab)" if op == "fill" else "(i32.const 0)"
    body = f"""
  (func (export "_start")
    (call $num (memory.grow (i32.const 1000)))
    (memory.{op} (i32.const 65536) {args} (i32.const {length}))
    (call $num (i32.const 1))
    (call $report))
"""
    return _wat(body, pages=pages)


# -- WASI answers ------------------------------------------------------------------------------------


def huge_stdio_write() -> str:
    """``fd_write`` to stderr and to stdout of one buffer of length 2^32-1, then of a buffer that ends
    past the memory: reports each errno and the ``nwritten`` left (7777 if untouched)."""
    calls = ""
    for fd in (2, 1):
        for ptr, length in ((65536, 0xFFFFFFFF), (2 * 65536 - 10, 100)):
            calls += f"""
    (i32.store (i32.const 0) (i32.const {ptr})) (i32.store (i32.const 4) (i32.const {length}))
    (i32.store (i32.const 8) (i32.const 7777))
    (call $num (call $write (i32.const {fd}) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $num (i32.load (i32.const 8)))"""
    return _wat(f'(func (export "_start") {calls} (call $report))')


def past_end_file_writer(pages: int, bad_length: int, rest: int) -> str:
    """Writes 8 bytes to ``side.txt``; then ``fd_write`` and ``fd_pwrite`` of ``bad_length`` bytes from
    a buffer that starts 10 bytes before the end of memory; then ``rest`` bytes from 65536 (room the
    quota only has if the failed writes charged nothing). Reports: errno, size, errno, size, errno,
    size."""
    end = pages * 65536 - 10
    body = f"""
  (func (export "_start") (local $fd i32)
    (local.set $fd (call $try_open (i32.const 3) (i32.const 2300) (i32.const 8) (i32.const 9)))
    (call $put (local.get $fd) (i32.const 2300) (i32.const 8))
    (i32.store (i32.const 0) (i32.const {end})) (i32.store (i32.const 4) (i32.const {bad_length}))
    (call $num (call $write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $num (call $size (local.get $fd)))
    (call $num (call $pwrite (local.get $fd) (i32.const 0) (i32.const 1) (i64.const 4) (i32.const 8)))
    (call $num (call $size (local.get $fd)))
    (i32.store (i32.const 0) (i32.const 65536)) (i32.store (i32.const 4) (i32.const {rest}))
    (call $num (call $write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $num (call $size (local.get $fd)))
    (call $report))
"""
    return _wat(body, pages=pages)


def inodes() -> str:
    """Reports inodes: output.txt, a.txt, b.txt (each as created, by fd), input.txt (by fd), a.txt by
    name, a.txt renamed c.txt by name, the directory, stdout."""
    body = """
  (func (export "_start") (local $out i32) (local $a i32) (local $b i32) (local $in i32)
    (local.set $out (call $try_open (i32.const 3) (i32.const 2048) (i32.const 10) (i32.const 9)))
    (local.set $a (call $try_open (i32.const 3) (i32.const 2400) (i32.const 5) (i32.const 9)))
    (local.set $b (call $try_open (i32.const 3) (i32.const 2410) (i32.const 5) (i32.const 9)))
    (local.set $in (call $try_open (i32.const 3) (i32.const 2430) (i32.const 9) (i32.const 0)))
    (call $num (call $ino (local.get $out) (i32.const 0) (i32.const 0)))
    (call $num (call $ino (local.get $a) (i32.const 0) (i32.const 0)))
    (call $num (call $ino (local.get $b) (i32.const 0) (i32.const 0)))
    (call $num (call $ino (local.get $in) (i32.const 0) (i32.const 0)))
    (call $num (call $ino (i32.const -1) (i32.const 2400) (i32.const 5)))
    (drop (call $rename (i32.const 3) (i32.const 2400) (i32.const 5) (i32.const 3) (i32.const 2420) (i32.const 5)))
    (call $num (call $ino (i32.const -1) (i32.const 2420) (i32.const 5)))
    (call $num (call $ino (i32.const -1) (i32.const 2440) (i32.const 1)))
    (call $num (call $ino (i32.const 1) (i32.const 0) (i32.const 0)))
    (call $put (local.get $out) (i32.const 8192) (global.get $len)))
"""
    return _wat(body)


def reverser() -> str:
    """Answers the bytes of ``input.txt`` (up to 64 KiB) in reverse order: a UTF-8 input with a
    multi-byte character gives an output that is not UTF-8."""
    body = """
  (func (export "_start") (local $in i32) (local $n i32) (local $i i32) (local $j i32) (local $t i32)
    (local.set $in (call $try_open (i32.const 3) (i32.const 2430) (i32.const 9) (i32.const 0)))
    (i32.store (i32.const 0) (i32.const 65536)) (i32.store (i32.const 4) (i32.const 65536))
    (drop (call $read (local.get $in) (i32.const 0) (i32.const 1) (i32.const 8)))
    (local.set $n (i32.load (i32.const 8)))
    (local.set $j (i32.add (i32.const 65535) (local.get $n)))
    (local.set $i (i32.const 65536))
    (block $done (loop $swap
      (br_if $done (i32.ge_u (local.get $i) (local.get $j)))
      (local.set $t (i32.load8_u (local.get $i)))
      (i32.store8 (local.get $i) (i32.load8_u (local.get $j)))
      (i32.store8 (local.get $j) (local.get $t))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $j (i32.sub (local.get $j) (i32.const 1)))
      (br $swap)))
    (call $put (call $try_open (i32.const 3) (i32.const 2048) (i32.const 10) (i32.const 9))
               (i32.const 65536) (local.get $n)))
"""
    return _wat(body, pages=3)


#: One instruction (or declaration) of each WebAssembly proposal the sandbox switches off.
SWITCHED_OFF = {
    "simd": "(func (drop (v128.const i32x4 0 0 0 0)))",
    "relaxed_simd": "(func (drop (i32x4.relaxed_trunc_f32x4_s (v128.const i32x4 0 0 0 0))))",
    "threads": "(func (drop (i32.atomic.load (i32.const 0))))",
    "shared_memory": '(memory (export "memory") 2 2 shared)',
    "memory64": '(module (memory (export "memory") i64 2) (func (export "_start")))',
    "multi_memory": "(memory $second 1)",
    "tail_call": "(func $again (return_call $again))",
    "exceptions": "(tag $oops) (func (throw $oops))",
    "function_references": "(type $ft (func)) (func (param (ref $ft)))",
    "gc": "(type $s (struct (field i32))) (func (drop (struct.new $s (i32.const 0))))",
    "externref": "(table $ext 1 externref)",
    "wide_arithmetic": "(func (drop (drop (i64.add128 (i64.const 0) (i64.const 0) (i64.const 0) (i64.const 0)))))",
    "custom_page_sizes": '(memory (export "memory") 131072 (pagesize 1))',
    "stack_switching": "(type $ft (func)) (type $ct (cont $ft))",
}


def using(proposal: str) -> str:
    """A valid-looking task (it writes ``output.txt``) that also uses ``proposal``."""
    start = '(func (export "_start") (call $num (i32.const 1)) (call $report))'
    code = SWITCHED_OFF[proposal]
    if code.startswith("(module"):  # a whole module: the common helpers do not fit it
        return code
    if code.startswith('(memory (export "memory")'):
        return _wat(start, memory=code)  # the task's one memory is of the switched-off kind
    return _wat(code + " " + start)


def high_address_writer() -> str:
    """Writes ``hello`` from address 2^31 (a memory of 2 GiB + 64 KiB, nearly all untouched) to stdout
    and to ``side.txt``, with ``nwritten`` at 2^31 + 16: reports errno, nwritten, errno, size. A host
    that took the i32 pointers as signed would answer EFAULT."""
    body = """
  (data (i32.const 0x80000000) "hello")
  (func (export "_start") (local $fd i32)
    (i32.store (i32.const 0) (i32.const 0x80000000)) (i32.store (i32.const 4) (i32.const 5))
    (call $num (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 0x80000010)))
    (call $num (i32.load (i32.const 0x80000010)))
    (local.set $fd (call $try_open (i32.const 3) (i32.const 2300) (i32.const 8) (i32.const 9)))
    (call $num (call $write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 0x80000010)))
    (call $num (call $size (local.get $fd)))
    (call $report))
"""
    return _wat(body, pages=32769)
