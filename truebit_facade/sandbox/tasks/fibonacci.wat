;; fibonacci: reads a decimal n (0..90, surrounding whitespace allowed) from input.txt and writes the
;; n-th Fibonacci number (fib(0) = 0, fib(1) = 1) in decimal to output.txt. Input "22" -> "17711".
;; Anything else: a message on stderr and exit code 2 (the execution fails).
;;
;; WASI preview 1, the platform's contract: input.txt and output.txt in the preopened directory (fd 3).
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 1)

  ;; 0: iovec {ptr, len}   8: nread / nwritten   12: opened fd
  (data (i32.const 16) "input.txt")
  (data (i32.const 32) "output.txt")
  ;; 64..96: the decimal digits of the result, written backwards from 96
  (data (i32.const 128) "fibonacci: input must be an integer from 0 to 90\n")
  (data (i32.const 192) "fibonacci: cannot open input.txt or output.txt\n")
  ;; 1024..5120: the input

  (func $exit_with (param $msg i32) (param $len i32) (param $code i32)
    (i32.store (i32.const 0) (local.get $msg))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (local.get $code))
    unreachable)

  (func $open (param $path i32) (param $len i32) (param $oflags i32) (result i32)
    (if (call $path_open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len)
          (local.get $oflags) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 12))
      (then (call $exit_with (i32.const 192) (i32.const 47) (i32.const 3))))
    (i32.load (i32.const 12)))

  (func $is_space (param $c i32) (result i32)
    (i32.or
      (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
      (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13)))))

  (func $bad_input
    (call $exit_with (i32.const 128) (i32.const 49) (i32.const 2)))

  (func (export "_start")
    (local $fd i32) (local $total i32) (local $start i32) (local $end i32) (local $c i32)
    (local $n i32) (local $a i64) (local $b i64) (local $t i64) (local $p i32)

    ;; read input.txt (at most 4095 bytes)
    (local.set $fd (call $open (i32.const 16) (i32.const 9) (i32.const 0)))
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $total)))
        (i32.store (i32.const 4) (i32.sub (i32.const 4096) (local.get $total)))
        (if (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))
          (then (call $bad_input)))
        (br_if $eof (i32.eqz (i32.load (i32.const 8))))
        (local.set $total (i32.add (local.get $total) (i32.load (i32.const 8))))
        (if (i32.ge_u (local.get $total) (i32.const 4096)) (then (call $bad_input)))
        (br $read)))
    (drop (call $fd_close (local.get $fd)))

    ;; trim whitespace
    (local.set $end (local.get $total))
    (block $done
      (loop $skip
        (br_if $done (i32.ge_u (local.get $start) (local.get $end)))
        (br_if $done (i32.eqz (call $is_space (i32.load8_u (i32.add (i32.const 1024) (local.get $start))))))
        (local.set $start (i32.add (local.get $start) (i32.const 1)))
        (br $skip)))
    (block $done
      (loop $skip
        (br_if $done (i32.le_u (local.get $end) (local.get $start)))
        (br_if $done (i32.eqz (call $is_space
          (i32.load8_u (i32.add (i32.const 1023) (local.get $end))))))
        (local.set $end (i32.sub (local.get $end) (i32.const 1)))
        (br $skip)))
    (if (i32.eq (local.get $start) (local.get $end)) (then (call $bad_input)))
    (if (i32.gt_u (i32.sub (local.get $end) (local.get $start)) (i32.const 9)) (then (call $bad_input)))

    ;; parse decimal digits
    (block $done
      (loop $digit
        (br_if $done (i32.ge_u (local.get $start) (local.get $end)))
        (local.set $c (i32.sub (i32.load8_u (i32.add (i32.const 1024) (local.get $start))) (i32.const 48)))
        (if (i32.gt_u (local.get $c) (i32.const 9)) (then (call $bad_input)))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $c)))
        (local.set $start (i32.add (local.get $start) (i32.const 1)))
        (br $digit)))
    (if (i32.gt_u (local.get $n) (i32.const 90)) (then (call $bad_input)))

    ;; fib(n), iteratively
    (local.set $a (i64.const 0))
    (local.set $b (i64.const 1))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $step)))

    ;; decimal digits, backwards from 96
    (local.set $p (i32.const 96))
    (loop $format
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $a) (i64.const 10))))
      (local.set $a (i64.div_u (local.get $a) (i64.const 10)))
      (br_if $format (i64.ne (local.get $a) (i64.const 0))))

    ;; write output.txt (O_CREAT | O_TRUNC)
    (local.set $fd (call $open (i32.const 32) (i32.const 10) (i32.const 9)))
    (i32.store (i32.const 0) (local.get $p))
    (i32.store (i32.const 4) (i32.sub (i32.const 96) (local.get $p)))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $fd_close (local.get $fd)))))
