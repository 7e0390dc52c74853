"""Simulated solver nodes, their signatures, and the consensus that gives ``verificationStatus``.

**Keys.** Node ``i`` holds the secp256k1 private key ``keccak256(UTF-8 "truebit-sandbox-node:<seed>:<i>")``
(re-hashed in the negligible case it is not a valid scalar); its ``senderAddress`` is the EIP-55 address
of that key. The same seed gives the same addresses on every run.

**What a node signs.** The 32-byte hash :func:`truebit_facade.signing.sandbox_solution_hash`
``(executionId, output, executionStatus)``: keccak-256 of the canonical UTF-8 JSON
``{"executionId":...,"executionStatus":...,"output":...}`` (sorted keys, no spaces, non-ASCII kept),
signed Ethereum-style with no EIP-191 prefix (``v`` in {27, 28}, ``r`` and ``s`` 64 hex characters). So
``recover_signer(sandbox_solution_hash(id, sol.output, sol.executionStatus), sol.signature)`` equals
``sol.senderAddress`` for every solution the sandbox returns.

**Consensus.** An execution with ``totalSolutions = n`` is solved by nodes ``0 .. n-1``. Honest nodes
share one run of the module (it is deterministic) and answer as soon as it ends; faulty ones behave as
:class:`NodeFault` says. Solutions are taken in order of arrival within the verification window:

* as soon as ``requiredSolutions`` of them agree (same output and status): **Success**, reporting the
  first-arrived solution of the largest agreeing group;
* as soon as no group can reach ``requiredSolutions`` any more (disagreement), or when the window ends
  with too few (slow or silent nodes): **Indeterminate**, reporting the first-arrived solution of the
  largest group, ties going to the group that answered first, then to the lowest node index (no
  ``clearTextSolution`` if no node answered). Answers arriving at the same instant are all counted
  before deciding, so a single wrong node among honest ones never becomes the reported solution;
* when the sandbox itself cannot run the task: **Error**, with node 0's signed failed solution whose
  output says what went wrong.

A task that fails (trap, out of gas, ...) fails the same way on every honest node, so its consensus is
Success with ``executionStatus`` ``failed``: the network verified that the task fails.

**The hub.** API tasks run on the hub, not on the nodes: their ``clearTextSolution.senderAddress`` is
the address of the hub key ``keccak256(UTF-8 "truebit-sandbox-hub:<seed>")`` (:func:`hub_private_key`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import VerificationStatus
from ..signing import address_of, keccak256, sandbox_solution_hash, sign_hash
from ._config import NodeFault
from ._wasm import RunResult

__all__ = [
    "Node",
    "NodePool",
    "Solution",
    "Verdict",
    "error_verdict",
    "hub_private_key",
    "node_private_key",
    "reach_consensus",
]

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class Node:
    """A simulated solver: its index, key, address and fault (``None`` for honest)."""

    index: int
    private_key: bytes
    address: str
    fault: NodeFault | None

    def sign(self, execution_id: str, output: str, execution_status: str) -> tuple[int, str, str]:
        """``(v, r, s)`` over ``sandbox_solution_hash(execution_id, output, execution_status)``."""
        return sign_hash(self.private_key, sandbox_solution_hash(execution_id, output, execution_status))


def node_private_key(seed: str, index: int) -> bytes:
    """Node ``index``'s private key for ``seed`` (see the module docstring)."""
    key = keccak256(f"truebit-sandbox-node:{seed}:{index}".encode())
    while not 0 < int.from_bytes(key, "big") < _SECP256K1_N:  # pragma: no cover - probability ~2**-128
        key = keccak256(key)
    return key


def node_address(seed: str, index: int) -> str:
    """The EIP-55 address of node ``index`` under ``seed`` (``SandboxConfig.node_seed``): who signs."""
    return address_of(node_private_key(seed, index))


def hub_private_key(seed: str) -> bytes:
    """The sandbox hub's private key for ``seed``: it "sends" the solutions of API tasks."""
    key = keccak256(f"truebit-sandbox-hub:{seed}".encode())
    while not 0 < int.from_bytes(key, "big") < _SECP256K1_N:  # pragma: no cover - probability ~2**-128
        key = keccak256(key)
    return key


class NodePool:
    """The nodes of one sandbox, created on first use and cached (deriving an address costs ~0.1 ms)."""

    def __init__(self, seed: str, faults: Mapping[int, NodeFault]) -> None:
        self._seed = seed
        self._faults = dict(faults)
        self._nodes: dict[int, Node] = {}
        self._lock = threading.Lock()
        self._hub_address: str | None = None

    @property
    def hub_address(self) -> str:
        """The EIP-55 address of the hub key (see :func:`hub_private_key`)."""
        with self._lock:
            if self._hub_address is None:
                self._hub_address = address_of(hub_private_key(self._seed))
            return self._hub_address

    def node(self, index: int) -> Node:
        with self._lock:
            node = self._nodes.get(index)
            if node is None:
                key = node_private_key(self._seed, index)
                node = Node(index, key, address_of(key), self._faults.get(index))
                self._nodes[index] = node
            return node


@dataclass(frozen=True)
class Solution:
    """One node's signed solution and when it arrived (seconds after the run ended)."""

    node: int
    output: str
    execution_status: str
    sender_address: str
    v: int
    r: str
    s: str
    arrival: float

    def to_json(self) -> dict[str, Any]:
        """The spec's ``clearTextSolution`` object."""
        return {
            "output": self.output,
            "executionStatus": self.execution_status,
            "senderAddress": self.sender_address,
            "signature": {"v": self.v, "r": self.r, "s": self.s},
        }


@dataclass(frozen=True)
class Verdict:
    """The outcome of verification: status, the reported solution, and when it is known."""

    verification_status: VerificationStatus
    solution: Solution | None
    decided_after: float
    solutions: tuple[Solution, ...] = ()


def _signed(node: Node, execution_id: str, output: str, status: str, arrival: float) -> Solution:
    v, r, s = node.sign(execution_id, output, status)
    return Solution(node.index, output, status, node.address, v, r, s, arrival)


def reach_consensus(
    pool: NodePool,
    execution_id: str,
    result: RunResult,
    *,
    total: int,
    required: int,
    timeout: float,
) -> Verdict:
    """Simulate nodes ``0 .. total-1`` answering ``result`` and decide as the module docstring says."""
    arrivals: list[tuple[float, Node, str]] = []
    for index in range(total):
        node = pool.node(index)
        fault = node.fault
        if fault is None:
            arrivals.append((0.0, node, result.output))
        elif fault.kind == "wrong_output":
            arrivals.append((0.0, node, f"{result.output} [wrong answer from faulty node {index}]"))
        elif fault.kind == "slow" and fault.delay_seconds <= timeout:
            arrivals.append((fault.delay_seconds, node, result.output))
    arrivals.sort(key=lambda a: (a[0], a[1].index))

    groups: dict[str, list[Solution]] = {}
    arrived: list[Solution] = []
    position = 0
    while position < len(arrivals):
        now = arrivals[position][0]
        while position < len(arrivals) and arrivals[position][0] == now:  # every answer of this instant
            _, node, output = arrivals[position]
            solution = _signed(node, execution_id, output, result.execution_status, now)
            arrived.append(solution)
            groups.setdefault(output, []).append(solution)
            position += 1
        best = max(len(g) for g in groups.values())
        if best >= required:
            return Verdict(VerificationStatus.SUCCESS, _largest(groups), now, tuple(arrived))
        if best + (total - len(arrived)) < required:
            return Verdict(VerificationStatus.INDETERMINATE, _largest(groups), now, tuple(arrived))
    return Verdict(VerificationStatus.INDETERMINATE, _largest(groups), timeout, tuple(arrived))


def _largest(groups: dict[str, list[Solution]]) -> Solution | None:
    if not groups:
        return None
    best = max(groups.values(), key=lambda g: (len(g), -g[0].arrival, -g[0].node))
    return best[0]


def error_verdict(pool: NodePool, execution_id: str, message: str) -> Verdict:
    """Verification Error: node 0 reports (signed) that the task could not be run."""
    solution = _signed(pool.node(0), execution_id, message, "failed", 0.0)
    return Verdict(VerificationStatus.ERROR, solution, 0.0, (solution,))
