"""W3C Data Integrity proofs: signed with eddsa-rdfc-2022, verified in three suites.

``eddsa-rdfc-2022`` (vc-di-eddsa §3.3): canonicalise the document without its proof and the
proof options (with the document's ``@context``) with RDFC-1.0 (URDNA2015, by pyld), hash each
with SHA-256, and sign ``hash(proof options) || hash(document)`` with Ed25519. The signature is
the ``proofValue``, multibase base58btc. ``eddsa-2022``, the suite's earlier name, and the legacy
``Ed25519Signature2020`` proof type verify the same way. ``ecdsa-rdfc-2019`` (vc-di-ecdsa §3.3)
is the same with a P-256 key: an ECDSA (SHA-256) signature, raw ``r || s``. Derived proofs of
``ecdsa-sd-2023`` are verified by :mod:`._ecdsa_sd`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from openbackpack._exceptions import InvalidCredentialError
from openbackpack.credentials._canon import Canonical, canonicalize, proof_canonical_forms
from openbackpack.credentials._ecdsa_sd import SD_CRYPTOSUITE, verify_derived_proof
from openbackpack.credentials._keys import (
    KeyPair,
    PublicKey,
    decode_multibase,
    encode_multibase,
    verify_p256,
)
from openbackpack.credentials._loader import DocumentLoader

__all__ = [
    "CRYPTOSUITE",
    "PUBLISHED_CRYPTOSUITES",
    "VERIFIED_CRYPTOSUITES",
    "Canonical",
    "canonicalize",
    "describe_unsupported",
    "is_supported_proof",
    "proof_canonical_forms",
    "sign_data_integrity",
    "verify_data_integrity_proof",
]

CRYPTOSUITE: Final = "eddsa-rdfc-2022"
"""The cryptosuite this package signs with."""

_EDDSA: Final = frozenset({CRYPTOSUITE, "eddsa-2022"})
_ECDSA_RDFC: Final = "ecdsa-rdfc-2019"
VERIFIED_CRYPTOSUITES: Final = frozenset(_EDDSA | {_ECDSA_RDFC, SD_CRYPTOSUITE})
"""The ``DataIntegrityProof`` cryptosuites this package verifies."""
PUBLISHED_CRYPTOSUITES: Final = frozenset(
    VERIFIED_CRYPTOSUITES | {"eddsa-jcs-2022", "ecdsa-jcs-2019", "bbs-2023"}
)
"""The cryptosuites the W3C Data Integrity Recommendations define (EdDSA, ECDSA, BBS)."""
# The legacy suite: the same algorithm (RDFC-1.0, SHA-256, Ed25519) under its own proof type.
_LEGACY_TYPE: Final = "Ed25519Signature2020"


def is_supported_proof(proof: Mapping[str, Any]) -> bool:
    """Whether ``proof`` is of a suite this package verifies.

    ``eddsa-rdfc-2022`` (and its earlier name ``eddsa-2022``), ``ecdsa-rdfc-2019`` (P-256),
    derived ``ecdsa-sd-2023`` proofs, and the legacy ``Ed25519Signature2020``.
    """
    if proof.get("type") == _LEGACY_TYPE:
        return True
    return (
        proof.get("type") == "DataIntegrityProof"
        and proof.get("cryptosuite") in VERIFIED_CRYPTOSUITES
    )


def describe_unsupported(proof: Mapping[str, Any]) -> str:
    """Why a proof of a suite not verified here cannot be checked, naming the suite.

    A suite another verifier implements is "not supported here"; a name no W3C cryptosuite
    has (a misspelling such as ``eddsa-rdf-2022``) is said to be so, with the nearest name.
    Neither is called invalid: a suite published after this list was written must not be.
    """
    proof_type, suite = proof.get("type"), proof.get("cryptosuite")
    named = f"{proof_type!r} / {suite!r}"
    if proof_type != "DataIntegrityProof" or suite in PUBLISHED_CRYPTOSUITES:
        return f"the proof suite {named} is not supported here"
    nearest = difflib.get_close_matches(str(suite), sorted(PUBLISHED_CRYPTOSUITES), n=1)
    hint = f" (did the issuer mean {nearest[0]!r}?)" if nearest else ""
    return (
        f"the proof names the cryptosuite {suite!r}, which no W3C Data Integrity cryptosuite"
        f" is called{hint}; it cannot be checked"
    )


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
    """Check one Data Integrity proof of ``document`` (a suite above); return what it covers.

    Raises:
        InvalidCredentialError: the proof is malformed, of another suite, or does not verify.
        DocumentUnavailableError: a context is not available, so the proof cannot be checked.
    """
    if not is_supported_proof(proof):
        raise InvalidCredentialError(
            f"unsupported proof {proof.get('type')!r} / {proof.get('cryptosuite')!r}"
        )
    if proof.get("cryptosuite") == SD_CRYPTOSUITE:
        return verify_derived_proof(document, proof, public_key, loader)
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise InvalidCredentialError("the proof has no proofValue")
    if proof.get("cryptosuite") == _ECDSA_RDFC:
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise InvalidCredentialError("ecdsa-rdfc-2019 needs a P-256 verification method")
        canonical = proof_canonical_forms(document, proof, loader)
        if not verify_p256(public_key, decode_multibase(value), canonical.hash_data()):
            raise InvalidCredentialError("the proof's signature does not verify")
        return canonical
    if not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise InvalidCredentialError("the verification method is not an Ed25519 key")
    canonical = proof_canonical_forms(document, proof, loader)
    try:
        public_key.verify(decode_multibase(value), canonical.hash_data())
    except InvalidSignature:
        raise InvalidCredentialError("the proof's signature does not verify") from None
    return canonical
