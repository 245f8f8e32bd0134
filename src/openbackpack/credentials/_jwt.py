"""VC-JWT: a credential signed as a compact JWS, with joserfc (a maintained, typed JOSE library).

Signing writes the VC Data Model 2.0 form: the JWT payload *is* the credential, with the
registered claims ``iss``, ``jti``, ``sub``, ``nbf`` and ``exp`` beside it so that JWT-only
software can read them. Verifying also reads the VCDM 1.1 form, where the credential is the
``vc`` claim. EdDSA (Ed25519) and ES256 (P-256) sign; RS256, ES256 and EdDSA verify.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc import jws, jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key
from joserfc.jws import JWSRegistry

from openbackpack._exceptions import InvalidCredentialError
from openbackpack.credentials._keys import KeyPair

__all__ = [
    "VERIFY_ALGORITHMS",
    "JwtParts",
    "VerifyingKey",
    "jose_key",
    "read_jwt",
    "sign_vc_jwt",
    "verify_vc_jwt",
]

VERIFY_ALGORITHMS: Final = ("RS256", "ES256", "EdDSA", "Ed25519")
"""The JWS algorithms a VC-JWT may be signed with to verify here (``Ed25519``: RFC 9864)."""


class _Registry(JWSRegistry):
    # Issuers embed their RSA public key as a `jwk` header (the 1EdTech samples do), which
    # is larger than joserfc's default 512-byte header limit.
    max_header_length = 8192


_REGISTRY: Final = _Registry(algorithms=list(VERIFY_ALGORITHMS))

VerifyingKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
"""A public key that can verify one of :data:`VERIFY_ALGORITHMS`."""

_JoseKey = OKPKey | ECKey | RSAKey


def _epoch(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        return None


def sign_vc_jwt(credential: Mapping[str, Any], key: KeyPair, kid: str) -> str:
    """Sign ``credential`` (without any embedded proof) as a VC-JWT; ``kid`` names the key."""
    payload = {k: v for k, v in credential.items() if k != "proof"}
    issuer = payload.get("issuer")
    subject = payload.get("credentialSubject")
    claims: dict[str, Any] = {
        "iss": issuer.get("id") if isinstance(issuer, dict) else issuer,
        "jti": payload.get("id"),
        "sub": subject.get("id") if isinstance(subject, dict) else None,
        "nbf": _epoch(payload.get("validFrom")),
        "exp": _epoch(payload.get("validUntil")),
    }
    payload.update({name: value for name, value in claims.items() if value is not None})
    alg = "EdDSA" if key.algorithm == "Ed25519" else "ES256"
    header = {"alg": alg, "typ": "vc+jwt", "kid": kid}
    private = import_key(key.private_pem(), "OKP" if alg == "EdDSA" else "EC")
    with _eddsa_allowed():
        return jwt.encode(header, payload, private, algorithms=[alg])


@contextmanager
def _eddsa_allowed() -> Iterator[None]:
    # RFC 9864 deprecates "EdDSA" for "Ed25519", but OB 3.0 and the wallets that read it
    # name "EdDSA"; joserfc warns on every use, which is not news to this module.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
        yield


class JwtParts:
    """A compact JWS read without checking it: its header and the credential it carries."""

    def __init__(self, header: dict[str, Any], credential: dict[str, Any]) -> None:
        self.header = header
        self.credential = credential

    @property
    def kid(self) -> str | None:
        """The ``kid`` header: the verification method (a DID URL or an https URL)."""
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def embedded_key(self) -> dict[str, Any] | None:
        """The ``jwk`` header, when the signer embedded its public key."""
        jwk = self.header.get("jwk")
        return jwk if isinstance(jwk, dict) else None


def read_jwt(token: str) -> JwtParts:
    """Split a VC-JWT into header and credential, *without* checking the signature.

    Use it only to learn which key to fetch; :func:`verify_vc_jwt` gives the trusted claims.

    Raises:
        InvalidCredentialError: not a compact JWS with a JSON object payload.
    """
    try:
        compact = jws.extract_compact(token.strip().encode("ascii"), registry=_REGISTRY)
        payload = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise InvalidCredentialError(f"not a compact JWS: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidCredentialError("the JWT payload is not a JSON object")
    vc = payload.get("vc")
    credential = vc if isinstance(vc, dict) else payload
    return JwtParts(dict(compact.headers()), credential)


def jose_key(key: VerifyingKey | Mapping[str, Any]) -> _JoseKey:
    """A joserfc key from a ``cryptography`` public key or a JWK object."""
    if isinstance(key, Mapping):
        jwk = dict(key)
        return import_key(jwk, jwk.get("kty"))  # type: ignore[return-value]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return OKPKey.import_key(key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ECKey.import_key(key)
    return RSAKey.import_key(key)


def verify_vc_jwt(
    token: str, key: VerifyingKey | Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a VC-JWT's signature with ``key``; return (header, credential) from the payload.

    Raises:
        InvalidCredentialError: the token is malformed, uses another algorithm, or its
            signature does not verify.
    """
    try:
        with _eddsa_allowed():
            token_obj = jwt.decode(
                token.strip(), jose_key(key), algorithms=list(VERIFY_ALGORITHMS), registry=_REGISTRY
            )
    except (JoseError, ValueError) as exc:
        raise InvalidCredentialError(f"the JWT does not verify: {exc}") from None
    claims = dict(token_obj.claims)
    vc = claims.get("vc")
    return dict(token_obj.header), vc if isinstance(vc, dict) else claims
