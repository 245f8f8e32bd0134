from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from openbackpack import InvalidCredentialError
from openbackpack.credentials import KeyPair, read_jwt, sign_vc_jwt, verify_vc_jwt
from tests.credentials.conftest import OB3_VECTOR, OB30, read_json


def _credential() -> dict[str, object]:
    data: dict[str, object] = read_json(OB3_VECTOR / "vector.json")["credential"]
    return data


@pytest.mark.parametrize(("algorithm", "alg"), [("Ed25519", "EdDSA"), ("P-256", "ES256")])
def test_sign_and_verify_vc_jwt(algorithm: str, alg: str) -> None:
    """A VC-JWT signed with EdDSA or ES256 verifies with its key and carries the credential."""
    key = KeyPair.generate(algorithm)  # type: ignore[arg-type]
    token = sign_vc_jwt(_credential(), key, "did:example:issuer#key-1")
    header, credential = verify_vc_jwt(token, key.public_key)
    assert header["alg"] == alg
    assert header["kid"] == "did:example:issuer#key-1"
    assert credential["name"] == _credential()["name"]
    assert credential["iss"] == "https://example.edu/issuers/565049"


def test_vc_jwt_fails_with_another_key() -> None:
    """A VC-JWT does not verify with a key other than the signer's."""
    token = sign_vc_jwt(_credential(), KeyPair.generate(), "k")
    with pytest.raises(InvalidCredentialError, match="does not verify"):
        verify_vc_jwt(token, KeyPair.generate().public_key)


def test_vc_jwt_with_a_changed_payload_fails() -> None:
    """Replacing the payload of a signed VC-JWT breaks its signature."""
    key = KeyPair.generate()
    header, _, signature = sign_vc_jwt(_credential(), key, "k").split(".")
    _, payload, _ = sign_vc_jwt({**_credential(), "name": "Forged"}, key, "k").split(".")
    with pytest.raises(InvalidCredentialError):
        verify_vc_jwt(f"{header}.{payload}.{signature}", key.public_key)


def test_rs256_sample_with_embedded_jwk_verifies() -> None:
    """The 1EdTech RS256 VC-JWT sample verifies with the jwk its header embeds."""
    svg = (OB30 / "simple-jwt.svg").read_text()
    match = re.search(r'verify="([^"]+)"', svg)
    assert match is not None
    parts = read_jwt(match.group(1))
    assert parts.embedded_key is not None
    header, credential = verify_vc_jwt(match.group(1), parts.embedded_key)
    assert header["alg"] == "RS256"
    assert "OpenBadgeCredential" in credential["type"]


def test_rs256_verifies_with_a_cryptography_key() -> None:
    """An RSA public key object verifies an RS256 token (signed here with joserfc)."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode({"alg": "RS256"}, {"vc": _credential()}, RSAKey.import_key(private))
    _, credential = verify_vc_jwt(token, private.public_key())
    assert credential["name"] == _credential()["name"]


def test_garbage_is_not_a_jwt() -> None:
    """Text that is not a compact JWS is a typed error."""
    with pytest.raises(InvalidCredentialError, match="compact JWS"):
        read_jwt("not.a.jwt")
