"""W3C Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite.

The algorithm (vc-di-eddsa §3.3): canonicalise the document without its proof and the proof
options (with the document's ``@context``) with RDFC-1.0 (URDNA2015, by pyld), hash each with
SHA-256, and sign ``hash(proof options) || hash(document)`` with Ed25519. The signature is the
``proofValue``, multibase base58btc. ``eddsa-2022``, the suite's earlier name, and the legacy
``Ed25519Signature2020`` proof type verify the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from pyld import jsonld

from openbackpack._exceptions import DocumentUnavailableError, InvalidCredentialError
from openbackpack.credentials._keys import KeyPair, PublicKey, decode_multibase, encode_multibase
from openbackpack.credentials._loader import DocumentLoader, refuse_inline_contexts

__all__ = [
    "CRYPTOSUITE",
    "Canonical",
    "canonicalize",
    "is_supported_proof",
    "proof_canonical_forms",
    "sign_data_integrity",
    "verify_data_integrity_proof",
]

CRYPTOSUITE: Final = "eddsa-rdfc-2022"
"""The cryptosuite this package signs with."""

_VERIFIES: Final = frozenset({CRYPTOSUITE, "eddsa-2022"})
# The legacy suite: the same algorithm (RDFC-1.0, SHA-256, Ed25519) under its own proof type.
_LEGACY_TYPE: Final = "Ed25519Signature2020"


def is_supported_proof(proof: Mapping[str, Any]) -> bool:
    """Whether ``proof`` is of a suite this package verifies.

    ``eddsa-rdfc-2022`` (and its earlier name ``eddsa-2022``) and the legacy
    ``Ed25519Signature2020``.
    """
    if proof.get("type") == _LEGACY_TYPE:
        return True
    return proof.get("type") == "DataIntegrityProof" and proof.get("cryptosuite") in _VERIFIES


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document.

    Raises:
        InvalidCredentialError: the document is not valid JSON-LD, or names an inline context.
        DocumentUnavailableError: a context it names is not available to ``loader``.
    """
    refuse_inline_contexts(document)
    try:
        nquads: str = jsonld.normalize(
            dict(document),
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": loader,
                # Strict: a term the contexts do not define would be signed as nothing at all.
                "safe": True,
            },
        )
    except jsonld.JsonLdError as exc:
        unavailable = _unavailable(exc)
        if unavailable is not None:
            raise unavailable from None
        raise InvalidCredentialError(f"the document cannot be canonicalised: {exc}") from None
    return nquads


def _unavailable(exc: BaseException | None) -> DocumentUnavailableError | None:
    # pyld wraps the loader's exception several levels deep, in .cause or .details['cause'].
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DocumentUnavailableError):
            return exc
        details = getattr(exc, "details", None)
        nested = details.get("cause") if isinstance(details, dict) else None
        exc = getattr(exc, "cause", None) or nested or exc.__cause__ or exc.__context__
        seen += 1
    return None


@dataclass(frozen=True, slots=True)
class Canonical:
    """The canonical forms a proof covers: the document's and the proof options'."""

    document: str
    proof: str

    def hash_data(self) -> bytes:
        """``sha256(proof options) || sha256(document)``: the bytes that are signed."""
        return (
            hashlib.sha256(self.proof.encode()).digest()
            + hashlib.sha256(self.document.encode()).digest()
        )


def proof_canonical_forms(
    document: Mapping[str, Any], proof: Mapping[str, Any], loader: DocumentLoader
) -> Canonical:
    """Canonicalise ``document`` (its ``proof`` removed) and ``proof`` (its value removed)."""
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    options["@context"] = document.get("@context")
    return Canonical(canonicalize(unsigned, loader), canonicalize(options, loader))


def sign_data_integrity(
    document: Mapping[str, Any],
    key: KeyPair,
    verification_method: str,
    loader: DocumentLoader,
    *,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Return ``document`` with an ``eddsa-rdfc-2022`` proof added (as a one-element list).

    Raises:
        InvalidCredentialError: the key is not Ed25519, or the document cannot be canonicalised.
    """
    if not isinstance(key.private_key, ed25519.Ed25519PrivateKey):
        raise InvalidCredentialError("eddsa-rdfc-2022 signs with an Ed25519 key only")
    when = (created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }
    canonical = proof_canonical_forms(document, proof, loader)
    proof["proofValue"] = encode_multibase(key.private_key.sign(canonical.hash_data()))
    signed = {key_: value for key_, value in document.items() if key_ != "proof"}
    signed["proof"] = [proof]
    return signed


def verify_data_integrity_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: PublicKey,
    loader: DocumentLoader,
) -> Canonical:
    """Check one ``eddsa-rdfc-2022`` proof of ``document``; return what it covers.

    Raises:
        InvalidCredentialError: the proof is malformed, of another suite, or does not verify.
        DocumentUnavailableError: a context is not available, so the proof cannot be checked.
    """
    if not is_supported_proof(proof):
        raise InvalidCredentialError(
            f"unsupported proof {proof.get('type')!r} / {proof.get('cryptosuite')!r}"
        )
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise InvalidCredentialError("the proof has no proofValue")
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise InvalidCredentialError("the verification method is not an Ed25519 key")
    canonical = proof_canonical_forms(document, proof, loader)
    try:
        public_key.verify(decode_multibase(value), canonical.hash_data())
    except InvalidSignature:
        raise InvalidCredentialError("the proof's signature does not verify") from None
    return canonical
