"""Ethereum-style secp256k1 signatures on solutions: recover who signed, and sign (for the sandbox).

A Truebit node signs its solution with ``{v, r, s}`` (``v`` in {27, 28}, ``r`` and ``s`` as 64 hex
characters) and reports its address as ``senderAddress`` (EIP-55). Given the 32-byte hash that was
signed, :func:`recover_signer` gives back the signer's address by plain ecrecover (no EIP-191 prefix).

What this can and cannot prove:

* For the **sandbox**, the signed hash is :func:`sandbox_solution_hash` (documented below), so
  ``recover_signer(sandbox_solution_hash(...), sig) == solution.sender_address`` proves that the node
  holding that key produced exactly that output for that execution.
* For the **live service**, Truebit does not document which bytes a ``clearTextSolution`` signature
  covers. Recovery works on a hash you obtain elsewhere (a transcript's ``msgHash``); with the wrong
  hash, recovery still returns *an* address, just not the node's, so compare it with the expected
  address and never trust a recovered address on its own. A match proves the key holder signed that
  hash; it proves nothing about whether the computation was right (that is what consensus is for).

Needs the ``signing`` extra (``pip install 'truebit-facade[signing]'``): coincurve and pycryptodome.
"""

from __future__ import annotations

import json
from typing import Protocol

# What a user needs to check a signature. ``sign_hash`` (the sandbox's nodes sign with it) stays
# importable but is not part of the public surface.
__all__ = [
    "SignatureLike",
    "address_of",
    "keccak256",
    "recover_signer",
    "sandbox_solution_hash",
    "to_checksum_address",
]

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class SignatureLike(Protocol):
    """Anything with ``v``, ``r``, ``s`` as the API sends them (a facade ``Signature`` is one)."""

    @property
    def v(self) -> int: ...
    @property
    def r(self) -> str: ...
    @property
    def s(self) -> str: ...


def _require_extra() -> None:
    try:
        import coincurve  # noqa: F401
        from Crypto.Hash import keccak  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            "signature recovery needs the 'signing' extra: pip install 'truebit-facade[signing]'"
        ) from exc


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (not NIST SHA3-256)."""
    _require_extra()
    from Crypto.Hash import keccak

    return bytes(keccak.new(digest_bits=256, data=data).digest())


def to_checksum_address(address: bytes | str) -> str:
    """EIP-55 mixed-case form of a 20-byte address."""
    raw = address if isinstance(address, bytes) else bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError("an address is 20 bytes")
    hex_addr = raw.hex()
    digest = keccak256(hex_addr.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_addr))


def _hash32(message_hash: bytes | str) -> bytes:
    raw = message_hash if isinstance(message_hash, bytes) else bytes.fromhex(message_hash.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError(f"a message hash is 32 bytes, got {len(raw)}")
    return raw


def _scalar(value: str, name: str) -> int:
    text = value.removeprefix("0x") if isinstance(value, str) else ""
    if len(text) != 64:
        raise ValueError(f"signature {name} must be 64 hex characters")
    try:
        number = int(text, 16)
    except ValueError:
        raise ValueError(f"signature {name} is not hexadecimal") from None
    if not 0 < number < _SECP256K1_N:
        raise ValueError(f"signature {name} is out of range")
    return number


def recover_signer(message_hash: bytes | str, signature: SignatureLike) -> str:
    """The EIP-55 address whose key made ``signature`` over ``message_hash`` (32 bytes, or hex).

    Raises ``ValueError`` for a malformed signature (v not in {27, 28, 0, 1}, r/s not 64 hex
    characters or out of range) or a hash that is not 32 bytes.
    """
    _require_extra()
    from coincurve import PublicKey

    v = signature.v
    if isinstance(v, bool) or not isinstance(v, int) or v not in (0, 1, 27, 28):
        raise ValueError(f"signature v must be 27 or 28, got {v!r}")
    r, s = _scalar(signature.r, "r"), _scalar(signature.s, "s")
    recoverable = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v % 27])
    try:
        public = PublicKey.from_signature_and_message(recoverable, _hash32(message_hash), hasher=None)
    except Exception as exc:  # coincurve raises a bare Exception when no key recovers
        raise ValueError(f"no public key recovers from this signature: {exc}") from None
    return to_checksum_address(keccak256(public.format(compressed=False)[1:])[-20:])


def address_of(private_key: bytes) -> str:
    """EIP-55 address of a 32-byte secp256k1 private key."""
    _require_extra()
    from coincurve import PrivateKey

    public = PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak256(public)[-20:])


def sign_hash(private_key: bytes, message_hash: bytes) -> tuple[int, str, str]:
    """Sign a 32-byte hash Ethereum-style: ``(v, r_hex, s_hex)`` with ``v`` in {27, 28}."""
    _require_extra()
    from coincurve import PrivateKey

    sig = PrivateKey(private_key).sign_recoverable(_hash32(message_hash), hasher=None)
    return 27 + sig[64], sig[:32].hex(), sig[32:64].hex()


def sandbox_solution_hash(execution_id: str, output: str, execution_status: str) -> bytes:
    """The 32-byte hash a sandbox node signs for its solution.

    ``keccak256`` of the UTF-8 canonical JSON (sorted keys, no spaces, non-ASCII kept)::

        {"executionId": <id>, "executionStatus": "succeed" | "failed", "output": <output.txt>}

    Binding the execution id stops a signature being replayed onto another execution.
    """
    payload = {"executionId": execution_id, "executionStatus": execution_status, "output": output}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return keccak256(canonical.encode("utf-8"))
