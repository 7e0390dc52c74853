"""Run a function task and read its verified result.

    truebit sandbox &      # or any Truebit service
    export TRUEBIT_BASE_URL=http://127.0.0.1:8080 TRUEBIT_API_KEY=sandbox-dev-key
    python examples/run_function.py

Three nodes solve fibonacci(22); ``run`` returns once they agree (verification ``Success``) and raises
otherwise, so the output printed here is verified.
"""

from truebit_facade import Truebit

NAMESPACE = "3a2b5129"  # the example tasks' namespace (the sandbox serves them)


def main() -> None:
    with Truebit() as tb:  # TRUEBIT_API_KEY and TRUEBIT_BASE_URL from the environment
        result = tb.functions.run(NAMESPACE, "fibonacci", "22", total_solutions=3)
        print("execution:", result.execution_id)
        print("output:", result.output)  # the task's output.txt: "17711"
        print("verification:", result.verification, "| solution:", result.execution_status)
        assert result.solution is not None
        print("reported by node:", result.solution.sender_address)
        print("signature:", result.solution.signature)
        assert result.ok and result.output == "17711"


if __name__ == "__main__":
    main()
