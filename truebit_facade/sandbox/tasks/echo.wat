;; echo: copies input.txt to output.txt byte for byte, so a JSON document comes back unchanged
;; (input '{"a": [1, 2]}' -> output '{"a": [1, 2]}'). An empty input gives an empty output, which
;; the platform treats as a failed execution.
;;
;; WASI preview 1, the platform's contract: input.txt and output.txt in the preopened directory (fd 3).
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 2)

  ;; 0: iovec {ptr, len}   8: nread / nwritten   12: opened fd
  (data (i32.const 16) "input.txt")
  (data (i32.const 32) "output.txt")
  (data (i32.const 64) "echo: cannot open or read input.txt / write output.txt\n")
  ;; 65536..131072: the copy buffer

  (func $fail
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 55))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (i32.const 3))
    unreachable)

  (func $open (param $path i32) (param $len i32) (param $oflags i32) (result i32)
    (if (call $path_open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len)
          (local.get $oflags) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 12))
      (then (call $fail)))
    (i32.load (i32.const 12)))

  (func (export "_start")
    (local $in i32) (local $out i32) (local $n i32) (local $p i32) (local $w i32)
    (local.set $in (call $open (i32.const 16) (i32.const 9) (i32.const 0)))
    (local.set $out (call $open (i32.const 32) (i32.const 10) (i32.const 9)))
    (block $eof
      (loop $copy
        (i32.store (i32.const 0) (i32.const 65536))
        (i32.store (i32.const 4) (i32.const 65536))
        (if (call $fd_read (local.get $in) (i32.const 0) (i32.const 1) (i32.const 8)) (then (call $fail)))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        ;; write all n bytes (fd_write may write fewer)
        (local.set $p (i32.const 65536))
        (block $written
          (loop $write
            (br_if $written (i32.eqz (local.get $n)))
            (i32.store (i32.const 0) (local.get $p))
            (i32.store (i32.const 4) (local.get $n))
            (if (call $fd_write (local.get $out) (i32.const 0) (i32.const 1) (i32.const 8)) (then (call $fail)))
            (local.set $w (i32.load (i32.const 8)))
            (if (i32.eqz (local.get $w)) (then (call $fail)))
            (local.set $p (i32.add (local.get $p) (local.get $w)))
            (local.set $n (i32.sub (local.get $n) (local.get $w)))
            (br $write)))
        (br $copy)))
    (drop (call $fd_close (local.get $in)))
    (drop (call $fd_close (local.get $out)))))
