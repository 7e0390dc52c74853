"""`make demo`: the main job against the embedded local dispatcher, with no account and no network.

Starts the sandbox in this process on 127.0.0.1, then through the public client: runs fibonacci
with 3 nodes (output, consensus, each signer recovered from its signature), waits on a long task,
and shows the typed errors of a failing task and a task stopped by its gas limit.
"""

from __future__ import annotations

import sys

from . import FunctionResult, TaskFailedError, Truebit, TruebitError, VerificationIndeterminateError
from .signing import sandbox_solution_hash

NAMESPACE = "3a2b5129"


def main() -> int:
    try:
        from .sandbox import ExampleTarget, NodeFault, Sandbox, SandboxConfig, example_registry, node_address
    except ImportError as exc:  # pragma: no cover - depends on the installation
        print(f"the demo needs the sandbox extra: pip install 'truebit-facade[sandbox]' ({exc})")
        return 1

    config = SandboxConfig(hold_seconds=60, faulty_nodes={4: NodeFault("wrong_output")})
    with (
        ExampleTarget() as target,  # a small HTTP API on 127.0.0.1 for the API task to call
        Sandbox(config, example_registry(target.url)) as sandbox,
        Truebit(api_key=sandbox.api_key, base_url=sandbox.url) as tb,
    ):
        print(f"local dispatcher at {sandbox.url} (no account, no network)\n")

        print("1. fibonacci(22) on 3 nodes, waiting for the verified result")
        result = tb.functions.run(NAMESPACE, "fibonacci", "22", total_solutions=3, required_solutions=3)
        solution = result.solution
        assert solution is not None and solution.signature is not None
        print(f"   output        {result.output}")
        print(f"   verification  {result.verification.value if result.verification else None}")
        print(f"   execution id  {result.execution_id}")
        signed = sandbox_solution_hash(result.execution_id, result.output or "", "succeed")
        recovered = solution.recover_signer(signed)
        print(f"   reported by   {solution.sender_address}")
        print(
            f"   recovered     {recovered} ({'matches' if recovered == solution.sender_address else 'MISMATCH'})"
        )
        nodes = [node_address(config.node_seed, i) for i in range(3)]
        print("   the 3 nodes   " + "\n                 ".join(nodes))

        print("\n2. a task that traps: run() raises a typed error that carries the result")
        try:
            tb.functions.run(NAMESPACE, "trap", "x")
        except TaskFailedError as err:
            print(f"   {type(err).__name__}: {err}")
            failed = err.result
            assert isinstance(failed, FunctionResult)
            print(f"   execution status {failed.execution_status}, execution id {err.execution_id}")

        print("\n3. a task that never ends, stopped by its gas limit (an instruction budget)")
        try:
            tb.functions.run(NAMESPACE, "loop", "", gas_limit=5_000_000)
        except TaskFailedError as err:
            print(f"   {type(err).__name__}: {err}")

        print("\n4. nodes that disagree (node 4 answers wrongly): no verified output")
        try:
            tb.functions.run(NAMESPACE, "fibonacci", "10", total_solutions=5, required_solutions=5)
        except VerificationIndeterminateError as err:
            print(f"   {type(err).__name__}: {err}")

        print("\n5. submit now, wait later (the id is all you need to resume)")
        execution = tb.functions.submit(NAMESPACE, "echo", '{"hello": "truebit"}')
        print(f"   submitted {execution.execution_id}")
        echoed = tb.functions.wait(execution.execution_id, timeout=60)
        print(f"   echo -> {echoed.output} ({echoed.verification.value if echoed.verification else None})")

        print("\n6. an API task: the hub calls an HTTP API for you (here a target on 127.0.0.1)")
        api = tb.api_tasks.run(
            NAMESPACE, "custom", path="/store/order/{orderId}", params={"orderId": 2}, execution_timeout=10
        )
        print(f"   status {api.status.value if api.status else None}, output {dict(api.output)}")
        if api.transferred_bytes is not None:
            print(f"   bytes exchanged with the target: {api.transferred_bytes.request} sent, "
                  f"{api.transferred_bytes.response} received")  # fmt: skip
    print("\ndone")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TruebitError as exc:
        print(f"demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
