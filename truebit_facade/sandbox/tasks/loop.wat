;; loop: never ends. Each execution is stopped by its gas limit (fuel) or, failing that, by the
;; wall-clock limit, and fails. Useful to test how a client handles a task that runs out of gas.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i64)
    (loop $forever
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $forever))))
