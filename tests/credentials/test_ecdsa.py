"""ECDSA Data Integrity: derived ecdsa-sd-2023 proofs and ecdsa-rdfc-2019 (P-256)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from openbackpack import InvalidCredentialError
from openbackpack.credentials import (
    CheckOutcome,
    DocumentLoader,
    Outcome,
    UnsupportedKeyTypeError,
    encode_multibase,
    proof_canonical_forms,
    public_key_from_multikey,
    verify_credential,
    verify_data_integrity_proof,
)
from openbackpack.credentials._ecdsa_sd import parse_derived_proof_value, relabel_nquads
from tests.credentials.conftest import OB30, W3C_ECDSA, read_json

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SD = W3C_ECDSA / "ecdsa-sd-2023"
BASE_KEY = read_json(SD / "SDKeyMaterial.json")["baseKeyPair"]["publicKeyMultibase"]
DERIVED = OB30 / "sd" / "derivedcredential.json"
HEADER = b"\xd9\x5d\x01"


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = read_json(DERIVED)
    return data


def _issuer_key(document: dict[str, Any]) -> Any:
    return public_key_from_multikey(document["proof"][0]["verificationMethod"].split("#")[1])


def _parts(value: str) -> list[Any]:
    raw = base64.urlsafe_b64decode(value[1:] + "=" * (-len(value[1:]) % 4))
    parts: list[Any] = cbor2.loads(raw[len(HEADER) :])
    return parts


def _value(parts: list[Any], header: bytes = HEADER) -> str:
    raw = header + cbor2.dumps(parts)
    return "u" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _with_parts(change: Callable[[list[Any]], None]) -> dict[str, Any]:
    document = _fixture()
    parts = _parts(document["proof"][0]["proofValue"])
    change(parts)
    document["proof"][0]["proofValue"] = _value(parts)
    return document


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def _proof_failure(document: dict[str, Any]) -> str:
    report = verify_credential(document, loader=DocumentLoader(), now=NOW)
    check = report.check("proof")
    assert report.outcome is Outcome.INVALID, report.to_json()
    assert check is not None
    assert check.outcome is CheckOutcome.FAILED, report.to_json()
    return check.reason


def test_the_1edtech_derived_credential_verifies() -> None:
    """sd/derivedcredential.json is valid, and the report names the suite it checked."""
    report = verify_credential(DERIVED, loader=DocumentLoader(), now=NOW)
    assert report.outcome is Outcome.VALID, report.to_json()
    proof = report.check("proof")
    assert proof is not None
    assert "ecdsa-sd-2023 verifies" in proof.reason


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("credentialSubject", "achievement", "name"), "Other"),
        (("credentialSubject", "id"), "did:example:someone-else"),
        (("issuer", "name"), "Other Corp"),
        (("validFrom",), "2011-01-01T00:00:00Z"),
    ],
)
def test_changing_a_disclosed_value_breaks_the_proof(path: tuple[str, ...], value: str) -> None:
    """Any disclosed value changed makes the credential invalid for the proof."""
    document = _fixture()
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert "does not verify" in _proof_failure(document)


def test_a_statement_withheld_after_derivation_breaks_the_proof() -> None:
    """Removing a disclosed statement leaves a signature without a statement: invalid."""
    document = _fixture()
    del document["credentialSubject"]["achievement"]["description"]
    assert "signatures for" in _proof_failure(document)


def test_a_changed_statement_signature_breaks_the_proof() -> None:
    """One flipped bit in any per-statement signature makes the proof fail."""
    for index in (0, 7, 14):

        def change(parts: list[Any], index: int = index) -> None:
            parts[2][index] = _flip(parts[2][index])

        assert f"statement {index + 1} does not verify" in _proof_failure(_with_parts(change))


def test_a_changed_base_signature_breaks_the_proof() -> None:
    """A flipped bit in the issuer's base signature makes the proof fail."""

    def change(parts: list[Any]) -> None:
        parts[0] = _flip(parts[0])

    assert "base signature" in _proof_failure(_with_parts(change))


def test_a_changed_ephemeral_key_breaks_the_proof() -> None:
    """Another ephemeral key (the base signature covers it) makes the proof fail."""
    other = public_key_from_multikey(BASE_KEY)
    point = other.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)

    def change(parts: list[Any]) -> None:
        parts[1] = bytes(parts[1][:2]) + point

    assert "does not verify" in _proof_failure(_with_parts(change))


def test_a_changed_label_map_breaks_the_proof() -> None:
    """Relabelling the blank node (another HMAC label) makes the statements fail."""

    def change(parts: list[Any]) -> None:
        parts[3] = {key: _flip(value) for key, value in parts[3].items()}

    assert "does not verify" in _proof_failure(_with_parts(change))


def test_a_label_map_missing_a_blank_node_is_refused() -> None:
    """A label map that does not name every blank node is a malformed proof."""

    def change(parts: list[Any]) -> None:
        parts[3] = {}

    assert "label map does not name" in _proof_failure(_with_parts(change))


def test_a_statement_made_mandatory_breaks_the_proof() -> None:
    """Moving a statement to the mandatory set changes what the base signature covers."""

    def change(parts: list[Any]) -> None:
        parts[4] = [0]
        parts[2] = parts[2][1:]

    assert "does not verify" in _proof_failure(_with_parts(change))


def test_a_base_proof_or_garbage_is_refused_with_a_reason() -> None:
    """A base proof value, a non-CBOR value and a wrong encoding each fail, saying which."""
    document = _fixture()
    parts = _parts(document["proof"][0]["proofValue"])
    cases = {
        _value(parts, b"\xd9\x5d\x00"): "base proof",
        "u" + base64.urlsafe_b64encode(HEADER + b"\xff\xff").decode(): "CBOR",
        "z" + document["proof"][0]["proofValue"][1:]: "base64url",
        _value(parts[:4]): "5-element",
    }
    for value, reason in cases.items():
        broken = copy.deepcopy(document)
        broken["proof"][0]["proofValue"] = value
        assert reason in _proof_failure(broken)


def test_an_ed25519_issuer_key_cannot_verify_ecdsa_sd() -> None:
    """An ecdsa-sd-2023 proof checked against an Ed25519 key fails with a typed error."""
    document = _fixture()
    ed_key = public_key_from_multikey("z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi")
    with pytest.raises(InvalidCredentialError, match="P-256"):
        verify_data_integrity_proof(document, document["proof"][0], ed_key, DocumentLoader())


def test_w3c_prc_vector_parses_relabels_and_verifies(loader: DocumentLoader) -> None:
    """The W3C ecdsa-sd-2023 PRC vector's parts, relabelled N-Quads and proof all match."""
    document = read_json(SD / "prc" / "derivedRevealDocument.json")
    expected = read_json(SD / "prc" / "verifyDerivedProofValue.json")
    derived = parse_derived_proof_value(document["proof"]["proofValue"])
    assert derived.base_signature.hex() == expected["baseSignature"]
    assert encode_multibase(derived.public_key) == expected["publicKey"]
    assert [s.hex() for s in derived.signatures] == expected["signatures"]
    assert dict(derived.label_map) == dict(expected["labelMap"])
    assert list(derived.mandatory_indexes) == expected["mandatoryIndexes"]
    canonical = proof_canonical_forms(document, document["proof"], loader)
    statements = relabel_nquads(canonical.document, derived.label_map)
    assert statements == read_json(SD / "prc" / "verifyNQuads.json")
    verify_data_integrity_proof(
        document, document["proof"], public_key_from_multikey(BASE_KEY), loader
    )


def test_w3c_windsurf_vector_verifies_with_its_context_mapped(tmp_path: Path) -> None:
    """The W3C windsurf vector verifies with its inline context mapped, not once changed."""
    document = read_json(SD / "derivedRevealDocument.json")
    context = tmp_path / "windsurf.json"
    context.write_text(json.dumps({"@context": document["@context"][1]}))
    url = "https://windsurf.example/context.json"
    document["@context"][1] = url
    loader = DocumentLoader({url: context})
    key = public_key_from_multikey(BASE_KEY)
    verify_data_integrity_proof(document, document["proof"], key, loader)
    document["credentialSubject"]["sails"][0]["size"] = 9.9
    with pytest.raises(InvalidCredentialError, match="does not verify"):
        verify_data_integrity_proof(document, document["proof"], key, loader)


def test_w3c_ecdsa_rdfc_2019_vector_reproduces_and_verifies(loader: DocumentLoader) -> None:
    """The W3C ecdsa-rdfc-2019 vector reproduces, verifies, and fails once changed."""
    folder = W3C_ECDSA / "ecdsa-rdfc-2019-p256" / "employ"
    signed = read_json(folder / "signedECDSAP256.json")
    canonical = proof_canonical_forms(signed, signed["proof"], loader)
    assert canonical.proof == (folder / "proofCanonECDSAP256.txt").read_text()
    assert canonical.hash_data().hex() == (folder / "combinedHashECDSAP256.txt").read_text()
    report = verify_credential(signed, loader=loader, now=NOW)
    proof = report.check("proof")
    assert proof is not None
    assert proof.outcome is CheckOutcome.PASSED
    assert proof.reason == "ecdsa-rdfc-2019 verifies"
    signed["credentialSubject"]["givenName"] = "JANE"
    key = public_key_from_multikey(BASE_KEY)
    with pytest.raises(InvalidCredentialError, match="does not verify"):
        verify_data_integrity_proof(signed, signed["proof"], key, loader)


def test_ecdsa_rdfc_2019_needs_a_p256_key(loader: DocumentLoader) -> None:
    """An ecdsa-rdfc-2019 proof checked against an Ed25519 key fails with a typed error."""
    signed = read_json(W3C_ECDSA / "ecdsa-rdfc-2019-p256" / "employ" / "signedECDSAP256.json")
    ed_key = public_key_from_multikey("z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi")
    with pytest.raises(InvalidCredentialError, match="P-256"):
        verify_data_integrity_proof(signed, signed["proof"], ed_key, loader)


def test_a_p384_key_is_not_checked_rather_than_failed(loader: DocumentLoader) -> None:
    """A P-384 Multikey (not read here) makes the issuer key "could not be checked"."""
    point = ec.generate_private_key(ec.SECP384R1()).public_key()
    multikey = encode_multibase(
        b"\x81\x24" + point.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    )
    with pytest.raises(UnsupportedKeyTypeError, match="P-384"):
        public_key_from_multikey(multikey)
    signed = read_json(W3C_ECDSA / "ecdsa-rdfc-2019-p256" / "employ" / "signedECDSAP256.json")
    signed["proof"]["verificationMethod"] = f"did:key:{multikey}#{multikey}"
    report = verify_credential(signed, loader=loader, now=NOW)
    key = report.check("issuer key")
    assert key is not None
    assert key.outcome is CheckOutcome.NOT_CHECKED
    assert "P-384" in key.reason
