from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from openbackpack import InvalidCredentialError
from openbackpack.credentials import (
    DocumentLoader,
    KeyPair,
    decode_multibase,
    proof_canonical_forms,
    public_key_from_multikey,
    sign_data_integrity,
    verify_data_integrity_proof,
)
from tests.credentials.conftest import OB3_VECTOR, W3C, read_json


def _vector() -> dict[str, Any]:
    data: dict[str, Any] = read_json(OB3_VECTOR / "vector.json")
    return data


def _vector_key() -> KeyPair:
    secret = bytes.fromhex(_vector()["keyPair"]["privateKeyHex"])[:32]
    return KeyPair(ed25519.Ed25519PrivateKey.from_private_bytes(secret))


def test_1edtech_vector_canonical_forms_equal_the_published_ones(loader: DocumentLoader) -> None:
    """The OB 3.0 test vector's document and proof canonicalise to its N-Quads files."""
    vector = _vector()
    canonical = proof_canonical_forms(vector["credential"], vector["proofOptions"], loader)
    assert canonical.document == (OB3_VECTOR / "document-canon.txt").read_text()
    assert canonical.proof == (OB3_VECTOR / "proof-canon.txt").read_text()
    assert canonical.hash_data().hex() == vector["dataToSignHex"]


def test_1edtech_vector_proof_value_is_reproduced(loader: DocumentLoader) -> None:
    """Signing the vector's credential with its key gives the vector's proofValue."""
    vector = _vector()
    key = _vector_key()
    assert key.multikey == vector["keyPair"]["publicKeyMultibase"]
    created = datetime.fromisoformat(vector["proofOptions"]["created"])
    signed = sign_data_integrity(
        vector["credential"],
        key,
        vector["proofOptions"]["verificationMethod"],
        loader,
        created=created,
    )
    assert signed["proof"][0]["proofValue"] == vector["proofValue"]
    assert signed["proof"][0] == {**vector["proofOptions"], "proofValue": vector["proofValue"]}


def _w3c_case(folder: Path, unsigned: Path) -> None:
    loader = DocumentLoader()
    options = read_json(folder / "proofConfigDataInt.json")
    options.pop("@context", None)
    canonical = proof_canonical_forms(read_json(unsigned), options, loader)
    assert canonical.document == (folder / "canonDocDataInt.txt").read_text()
    assert canonical.proof == (folder / "proofCanonDataInt.txt").read_text()
    doc_hash = hashlib.sha256(canonical.document.encode()).hexdigest()
    assert doc_hash == (folder / "docHashDataInt.txt").read_text().strip()
    assert canonical.hash_data().hex() == (folder / "combinedHashDataInt.txt").read_text().strip()
    keys = read_json(W3C / "keyPair.json")
    # privateKeyMultibase: the ed25519-priv multicodec (0x8026) then the 32-byte seed.
    seed = decode_multibase(keys["privateKeyMultibase"])[2:]
    key = KeyPair(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
    assert key.multikey == keys["publicKeyMultibase"]
    signed = sign_data_integrity(
        read_json(unsigned),
        key,
        options["verificationMethod"],
        loader,
        created=datetime.fromisoformat(options["created"]),
    )
    expected = read_json(folder / "signedDataInt.json")
    assert signed["proof"][0]["proofValue"] == expected["proof"]["proofValue"]
    assert decode_multibase(expected["proof"]["proofValue"]).hex() == (
        (folder / "sigHexDataInt.txt").read_text().strip()
    )
    verify_data_integrity_proof(
        expected, expected["proof"], public_key_from_multikey(keys["publicKeyMultibase"]), loader
    )


def test_w3c_vc_di_eddsa_alumni_vector() -> None:
    """The W3C eddsa-rdfc-2022 vector reproduces byte for byte: canon, hashes, signature."""
    _w3c_case(W3C / "eddsa-rdfc-2022", W3C / "unsigned.json")


def test_w3c_vc_di_eddsa_employment_vector() -> None:
    """The W3C eddsa-rdfc-2022 employment-authorisation vector reproduces byte for byte."""
    _w3c_case(W3C / "eddsa-rdfc-2022" / "employ", W3C / "employmentAuth.json")


def test_signed_credential_verifies_and_any_signed_change_breaks_it(
    loader: DocumentLoader,
) -> None:
    """A credential we sign verifies, and fails after any signed field is changed."""
    key = KeyPair.generate()
    signed = sign_data_integrity(_vector()["credential"], key, "did:key:x#x", loader)
    verify_data_integrity_proof(signed, signed["proof"][0], key.public_key, loader)
    for path, value in (
        (("name",), "Other"),
        (("credentialSubject", "achievement", "name"), "Other"),
        (("validFrom",), "2030-01-01T00:00:00Z"),
        (("proof", 0, "created"), "2030-01-01T00:00:00Z"),
    ):
        tampered = copy.deepcopy(signed)
        target: Any = tampered
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        with pytest.raises(InvalidCredentialError, match="does not verify"):
            verify_data_integrity_proof(tampered, tampered["proof"][0], key.public_key, loader)


def test_only_ed25519_signs_eddsa(loader: DocumentLoader) -> None:
    """Signing eddsa-rdfc-2022 with a P-256 key is refused with a typed error."""
    with pytest.raises(InvalidCredentialError, match="Ed25519"):
        sign_data_integrity(_vector()["credential"], KeyPair.generate("P-256"), "x", loader)


@pytest.mark.parametrize("algorithm", ["Ed25519", "P-256"])
def test_multikey_round_trip(algorithm: str) -> None:
    """A public key survives Multikey encoding and decoding, for both key types."""
    key = KeyPair.generate(algorithm)  # type: ignore[arg-type]
    assert public_key_from_multikey(key.multikey) == key.public_key
    assert KeyPair.from_pem(key.private_pem()).multikey == key.multikey
