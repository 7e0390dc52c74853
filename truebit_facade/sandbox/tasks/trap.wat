;; trap: fails at once with a WebAssembly trap (integer division by zero), whatever the input.
;; Useful to test how a client handles a failed execution.
(module
  (memory (export "memory") 1)
  (func (export "_start")
    (drop (i32.div_u (i32.const 1) (i32.const 0)))))
