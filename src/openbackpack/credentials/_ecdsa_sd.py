"""Verifying derived (selectively disclosed) proofs of the ``ecdsa-sd-2023`` cryptosuite.

W3C vc-di-ecdsa §3.5: the issuer signs a *base* proof and hands it to the holder, who derives a
proof that discloses only some statements. The derived ``proofValue`` is multibase base64url
(``u``) of a CBOR array behind the header ``0xd9 0x5d 0x01``: the issuer's base signature, an
ephemeral P-256 public key (Multikey bytes), one signature per non-mandatory statement, a
compressed label map and the indexes of the mandatory statements.

The verifier canonicalises the disclosed document (RDFC-1.0, by pyld), renames its blank nodes
with the label map (the issuer's HMAC'd labels), sorts the statements and splits them by the
mandatory indexes. Every non-mandatory statement must verify against its signature with the
ephemeral key; the base signature, by the issuer's key, covers
``sha256(proof options) || ephemeral key || sha256(mandatory statements)``. CBOR is decoded by
``cbor2``, the signatures checked by ``cryptography``; nothing here is hand-written crypto.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from pyld import jsonld

from openbackpack._exceptions import InvalidCredentialError
from openbackpack.credentials._canon import Canonical, proof_canonical_forms
from openbackpack.credentials._keys import PublicKey, verify_p256
from openbackpack.credentials._loader import DocumentLoader
from openbackpack.credentials._nquads import parse_nquads

__all__ = [
    "SD_CRYPTOSUITE",
    "DerivedProof",
    "parse_derived_proof_value",
    "relabel_nquads",
    "verify_derived_proof",
]

SD_CRYPTOSUITE: Final = "ecdsa-sd-2023"
"""The selective-disclosure ECDSA cryptosuite (verification of derived proofs)."""

_DERIVED_HEADER: Final = b"\xd9\x5d\x01"
_BASE_HEADER: Final = b"\xd9\x5d\x00"
_P256_MULTIKEY: Final = b"\x80\x24"
# Some encoders write byte strings as CBOR typed arrays (tag 64, uint8) instead of major type 2.
_UINT8_ARRAY_TAG: Final = 64


@dataclass(frozen=True, slots=True)
class DerivedProof:
    """The parts of a derived ``ecdsa-sd-2023`` proof value."""

    base_signature: bytes
    public_key: bytes
    """The ephemeral key as Multikey bytes (``0x80 0x24`` + compressed P-256 point)."""
    signatures: tuple[bytes, ...]
    label_map: Mapping[str, str]
    """Canonical blank node label (``c14n0``) -> the issuer's label (``u`` + base64url)."""
    mandatory_indexes: tuple[int, ...]


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCredentialError("the ecdsa-sd-2023 proofValue is not base64url") from None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _bytes(value: object, what: str, length: int | None = None) -> bytes:
    if isinstance(value, cbor2.CBORTag) and value.tag == _UINT8_ARRAY_TAG:
        value = value.value
    if not isinstance(value, bytes) or (length is not None and len(value) != length):
        size = f" of {length} bytes" if length is not None else ""
        raise InvalidCredentialError(f"the ecdsa-sd-2023 {what} is not a byte string{size}")
    return value


def parse_derived_proof_value(value: object) -> DerivedProof:
    """Decode a derived ``ecdsa-sd-2023`` ``proofValue`` (vc-di-ecdsa parseDerivedProofValue).

    Raises:
        InvalidCredentialError: not a derived proof value (a base proof included), or malformed.
    """
    if not isinstance(value, str) or not value.startswith("u"):
        raise InvalidCredentialError("the ecdsa-sd-2023 proofValue is not multibase base64url")
    raw = _b64url_decode(value[1:])
    if raw.startswith(_BASE_HEADER):
        raise InvalidCredentialError(
            "an ecdsa-sd-2023 base proof: it is the issuer's proof to the holder, who presents"
            " a derived proof; a base proof is not verifiable by a verifier"
        )
    if not raw.startswith(_DERIVED_HEADER):
        raise InvalidCredentialError("the ecdsa-sd-2023 proofValue lacks the derived-proof header")
    try:
        parts = cbor2.loads(raw[len(_DERIVED_HEADER) :])
    except (cbor2.CBORDecodeError, ValueError, EOFError):
        raise InvalidCredentialError("the ecdsa-sd-2023 proofValue is not valid CBOR") from None
    if not isinstance(parts, list) or len(parts) != 5:
        raise InvalidCredentialError("the ecdsa-sd-2023 proofValue is not a 5-element array")
    base_signature, public_key, signatures, labels, indexes = parts
    if not isinstance(signatures, list):
        raise InvalidCredentialError("the ecdsa-sd-2023 signatures are not an array")
    if not isinstance(labels, dict) or not all(isinstance(k, int) for k in labels):
        raise InvalidCredentialError("the ecdsa-sd-2023 label map is not a map of integers")
    if not isinstance(indexes, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in indexes
    ):
        raise InvalidCredentialError("the ecdsa-sd-2023 mandatory indexes are not integers")
    return DerivedProof(
        base_signature=_bytes(base_signature, "base signature", 64),
        public_key=_bytes(public_key, "public key", 35),
        signatures=tuple(_bytes(s, "signature", 64) for s in signatures),
        # The map is compressed: the key n stands for the label "c14n<n>", the value for the
        # base64url (multibase "u") HMAC label.
        label_map={f"c14n{k}": "u" + _b64url(_bytes(v, "label")) for k, v in labels.items()},
        mandatory_indexes=tuple(indexes),
    )


def _relabel(term: dict[str, Any], label_map: Mapping[str, str]) -> None:
    if term.get("type") != "blank node":
        return
    label = str(term["value"]).removeprefix("_:")
    if label not in label_map:
        raise InvalidCredentialError(f"the ecdsa-sd-2023 label map does not name _:{label}")
    term["value"] = "_:" + label_map[label]


def relabel_nquads(nquads: str, label_map: Mapping[str, str]) -> list[str]:
    """Canonical N-Quads with their blank nodes renamed by ``label_map``, sorted, one per line.

    The statements are parsed (:func:`~openbackpack.credentials._nquads.parse_nquads`, which
    reads a literal holding U+2028 as pyld's reader cannot) and written back by pyld, so only
    blank node terms are renamed, never text inside a literal.

    Raises:
        InvalidCredentialError: a blank node the label map does not name.
    """
    dataset = parse_nquads(nquads)
    out: list[str] = []
    for graph_name, triples in dataset.items():
        graph = None if graph_name == "@default" else str(graph_name)
        if graph is not None and graph.startswith("_:"):
            graph_term = {"type": "blank node", "value": graph}
            _relabel(graph_term, label_map)
            graph = str(graph_term["value"])
        for triple in triples:
            quad = copy.deepcopy(triple)
            _relabel(quad["subject"], label_map)
            _relabel(quad["object"], label_map)
            out.append(jsonld.JsonLdProcessor.to_nquad(quad, graph))
    return sorted(out)


def _ephemeral_key(data: bytes) -> ec.EllipticCurvePublicKey:
    if not data.startswith(_P256_MULTIKEY):
        raise InvalidCredentialError("the ecdsa-sd-2023 ephemeral key is not a P-256 Multikey")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
    except ValueError:
        raise InvalidCredentialError(
            "the ecdsa-sd-2023 ephemeral key is not a P-256 point"
        ) from None


def verify_derived_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: PublicKey,
    loader: DocumentLoader,
) -> Canonical:
    """Check a derived ``ecdsa-sd-2023`` proof of ``document``; return what it covers.

    Raises:
        InvalidCredentialError: the proof is malformed or a signature does not verify.
        DocumentUnavailableError: a context is not available, so the proof cannot be checked.
    """
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256R1
    ):
        raise InvalidCredentialError("ecdsa-sd-2023 (P-256) needs a P-256 verification method")
    derived = parse_derived_proof_value(proof.get("proofValue"))
    canonical = proof_canonical_forms(document, proof, loader)
    statements = relabel_nquads(canonical.document, derived.label_map)
    mandatory_at = set(derived.mandatory_indexes)
    if any(index < 0 or index >= len(statements) for index in mandatory_at):
        raise InvalidCredentialError("an ecdsa-sd-2023 mandatory index names no statement")
    mandatory = [s for index, s in enumerate(statements) if index in mandatory_at]
    disclosed = [s for index, s in enumerate(statements) if index not in mandatory_at]
    if len(derived.signatures) != len(disclosed):
        raise InvalidCredentialError(
            f"ecdsa-sd-2023: {len(derived.signatures)} signatures for"
            f" {len(disclosed)} non-mandatory statements"
        )
    ephemeral = _ephemeral_key(derived.public_key)
    for number, (signature, statement) in enumerate(
        zip(derived.signatures, disclosed, strict=True), 1
    ):
        if not verify_p256(ephemeral, signature, statement.encode()):
            raise InvalidCredentialError(
                f"the signature of disclosed statement {number} does not verify"
            )
    signed = (
        hashlib.sha256(canonical.proof.encode()).digest()
        + derived.public_key
        + hashlib.sha256("".join(mandatory).encode()).digest()
    )
    if not verify_p256(public_key, derived.base_signature, signed):
        raise InvalidCredentialError("the issuer's base signature does not verify")
    return canonical
