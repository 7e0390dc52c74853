"""Handle what can go wrong: a task that fails, and a wait that outlives its deadline.

    python examples/handle_errors.py     # with TRUEBIT_BASE_URL and TRUEBIT_API_KEY set

Every error is a ``TruebitError``; those about an execution carry its ``execution_id``, so nothing
submitted is ever lost.
"""

from truebit_facade import (
    APIStatusError,
    TaskFailedError,
    Truebit,
    TruebitError,
    VerificationIndeterminateError,
    WaitTimeoutError,
)

NAMESPACE = "3a2b5129"


def main() -> None:
    with Truebit() as tb:
        # 1. A task that fails: "trap" divides by zero. run() raises; the error carries the result.
        try:
            tb.functions.run(NAMESPACE, "trap", "")
        except TaskFailedError as err:
            print("task failed:", err.result.execution_status, "| said:", err.result.output)
        except VerificationIndeterminateError as err:
            print("nodes disagreed, output not verified:", err.result.output)

        # ... or ask for the result whatever it is, and look at it yourself.
        result = tb.functions.run(NAMESPACE, "trap", "", raise_on_failure=False)
        print("ok:", result.ok, "| verification:", result.verification, "| ran:", result.execution_status)

        # 2. A deadline shorter than the task: "loop" spins until its gas limit runs out (a second or so
        #    with this budget; on a slow machine the task's 10 s wall clock may end it first). The
        #    WaitTimeoutError carries the execution id: resume with wait().
        try:
            tb.functions.run(NAMESPACE, "loop", "", gas_limit=10_000_000_000, timeout=0.2)
            raise SystemExit("expected the deadline to pass first")
        except WaitTimeoutError as err:
            print(f"not finished after 0.2 s (last status {err.last_status}); resuming {err.execution_id}")
            assert err.execution_id is not None
            final = tb.functions.wait(err.execution_id, timeout=60, raise_on_failure=False)
            print("finished:", final.execution_status, "|", final.output)

        # 3. The service refusing a request: an APIStatusError with the HTTP status.
        try:
            tb.functions.run(NAMESPACE, "no-such-task", "")
        except APIStatusError as err:
            print(f"refused: HTTP {err.status_code} ({type(err).__name__}): {err.message}")
        except TruebitError as err:  # the base of every error this library raises
            print("other error:", err)


if __name__ == "__main__":
    main()
