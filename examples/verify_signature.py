"""Check who signed a sandbox solution: recover the signer from the signature and compare it with the
address the node reported.

    truebit sandbox &
    export TRUEBIT_BASE_URL=http://127.0.0.1:8080 TRUEBIT_API_KEY=sandbox-dev-key
    python examples/verify_signature.py          # needs the 'signing' extra (in 'sandbox')

On the sandbox each node signs ``sandbox_solution_hash(execution_id, output, execution_status)`` (see
``truebit_facade.signing``), so a match proves that the node holding that key produced exactly this
output for this execution. On the live service Truebit does not document which bytes are signed: get
the hash from elsewhere, and never trust a recovered address without comparing it.
"""

from truebit_facade import Truebit
from truebit_facade.signing import sandbox_solution_hash

NAMESPACE = "3a2b5129"


def main() -> None:
    with Truebit() as tb:
        result = tb.functions.run(NAMESPACE, "fibonacci", "30", total_solutions=3)
        solution = result.solution
        assert solution is not None and solution.output is not None and solution.execution_status is not None
        signed = sandbox_solution_hash(result.execution_id, solution.output, solution.execution_status.value)
        signer = solution.recover_signer(signed)
        print("reported by:", solution.sender_address)
        print("recovered:  ", signer)
        assert signer == solution.sender_address, "the signature does not match the reported node"
        # A changed output gives another hash, so recovery gives some other address: no match.
        forged = sandbox_solution_hash(result.execution_id, "999", solution.execution_status.value)
        assert solution.recover_signer(forged) != solution.sender_address
        print("signature verified for output", solution.output)


if __name__ == "__main__":
    main()
