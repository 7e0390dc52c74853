"""Start the local dispatcher in-process, with a misbehaving node, and watch consensus handle it.

    python examples/sandbox_in_process.py     # needs the sandbox extra; ignores TRUEBIT_BASE_URL

Node 1 answers a wrong (correctly signed) output. With three nodes and two matching solutions
required, the two honest nodes still make a verified result; with two nodes that must both agree,
verification is Indeterminate and ``run`` raises rather than hand back an unverified output.
"""

from truebit_facade import Truebit, VerificationIndeterminateError
from truebit_facade.sandbox import NodeFault, Sandbox, SandboxConfig

NAMESPACE = "3a2b5129"


def main() -> None:
    config = SandboxConfig(hold_seconds=5, faulty_nodes={1: NodeFault("wrong_output")})
    with Sandbox(config) as sb, Truebit(api_key=sb.api_key, base_url=sb.url) as tb:
        print("sandbox at", sb.url)
        r = tb.functions.run(NAMESPACE, "fibonacci", "30", total_solutions=3, required_solutions=2)
        print("3 nodes, 2 required:", r.verification, r.output)
        try:
            tb.functions.run(NAMESPACE, "fibonacci", "30", total_solutions=2)
            raise SystemExit("expected Indeterminate")
        except VerificationIndeterminateError as err:
            print("2 nodes, 2 required:", err.result.verification, "(output not verified)")


if __name__ == "__main__":
    main()
