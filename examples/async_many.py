"""Run many function tasks concurrently with ``AsyncTruebit`` and keep every outcome.

    python examples/async_many.py     # with TRUEBIT_BASE_URL and TRUEBIT_API_KEY set

``run_many`` runs at most ``concurrency`` executions at once over one connection pool and returns, in
input order, a result or the ``TruebitError`` each input ended with: one failure loses nothing else.
"""

import asyncio

from truebit_facade import AsyncTruebit, FunctionResult, TruebitError

NAMESPACE = "3a2b5129"


async def main() -> None:
    inputs = [str(n) for n in range(0, 31, 3)] + ["not a number"]
    async with AsyncTruebit() as tb:
        outcomes = await tb.functions.run_many(NAMESPACE, "fibonacci", inputs, concurrency=8)
    failed = 0
    for n, outcome in zip(inputs, outcomes, strict=True):
        if isinstance(outcome, FunctionResult):
            print(f"fib({n}) = {outcome.output}")
        else:
            assert isinstance(outcome, TruebitError)
            failed += 1
            print(f"fib({n!r}) failed: {type(outcome).__name__} (execution {outcome.execution_id})")
    assert failed == 1, "only the bad input fails"

    # The same without run_many: your own gather, one client, one pool.
    async with AsyncTruebit() as tb:
        a, b = await asyncio.gather(
            tb.functions.run(NAMESPACE, "fibonacci", "10"),
            tb.functions.run(NAMESPACE, "echo", '{"hello": "world"}'),
        )
    print("fib(10) =", a.output, "| echo:", b.output)


if __name__ == "__main__":
    asyncio.run(main())
