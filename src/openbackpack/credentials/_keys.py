"""Key pairs, Multikey encodings and ``did:key`` identifiers (Ed25519 and P-256).

Every encoding is delegated: ``cryptography`` for the keys, ``base58`` for multibase's
base58btc alphabet. A Multikey is the multicodec prefix (``0xed01`` Ed25519, ``0x8024``
compressed P-256) followed by the raw public key, base58btc-encoded behind a ``z``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from openbackpack._exceptions import InvalidCredentialError

__all__ = [
    "KeyAlgorithm",
    "KeyPair",
    "PublicKey",
    "UnsupportedKeyTypeError",
    "decode_multibase",
    "did_key",
    "encode_multibase",
    "public_key_from_multikey",
    "verify_p256",
]

KeyAlgorithm = Literal["Ed25519", "P-256"]
"""The key types this package issues with."""

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

_ED25519_PREFIX: Final = b"\xed\x01"
_P256_PREFIX: Final = b"\x80\x24"
# Multicodec prefixes of public keys other suites use, which this package does not read.
_OTHER_KEY_TYPES: Final = {
    b"\x81\x24": "P-384",
    b"\x82\x24": "P-521",
    b"\xe7\x01": "secp256k1",
    b"\xeb\x01": "BLS12-381 G2",
    b"\xec\x01": "X25519",
}


class UnsupportedKeyTypeError(InvalidCredentialError):
    """A well-formed Multikey of a key type this package does not read (P-384, BLS12-381...).

    Not a broken key: a proof made with one cannot be checked here, which is not the same as
    failing.
    """


def encode_multibase(data: bytes) -> str:
    """Encode bytes as multibase base58btc (``z`` followed by base58btc)."""
    return "z" + base58.b58encode(data).decode("ascii")


def decode_multibase(value: str) -> bytes:
    """Decode a multibase base58btc string.

    Raises:
        InvalidCredentialError: not base58btc multibase.
    """
    if not value.startswith("z"):
        raise InvalidCredentialError(f"not a base58btc multibase value: {value[:20]!r}")
    try:
        return base58.b58decode(value[1:])
    except ValueError:
        raise InvalidCredentialError(f"not a base58btc multibase value: {value[:20]!r}") from None


def _multikey(public: PublicKey) -> str:
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return encode_multibase(_ED25519_PREFIX + raw)
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return encode_multibase(_P256_PREFIX + point)


def public_key_from_multikey(value: str) -> PublicKey:
    """Read an Ed25519 or P-256 public key from its Multikey (``publicKeyMultibase``) form.

    Raises:
        UnsupportedKeyTypeError: a Multikey of a known type this package does not read.
        InvalidCredentialError: not a Multikey at all.
    """
    data = decode_multibase(value)
    try:
        if data.startswith(_ED25519_PREFIX) and len(data) == 34:
            return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])
        if data.startswith(_P256_PREFIX) and len(data) == 35:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
    except ValueError:
        pass
    other = _OTHER_KEY_TYPES.get(data[:2])
    if other is not None:
        raise UnsupportedKeyTypeError(f"a {other} key, not supported here: {value[:20]!r}")
    raise InvalidCredentialError(f"not an Ed25519 or P-256 Multikey: {value[:20]!r}")


def verify_p256(public: PublicKey, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is a P-256 ECDSA (SHA-256) signature of ``data`` by ``public``.

    Data Integrity carries ECDSA signatures raw, ``r || s`` (IEEE P1363, 64 bytes);
    ``cryptography`` takes them DER-encoded, so the two halves are re-encoded, not re-computed.
    A key that is not P-256 or a signature of another length does not verify.
    """
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        return False
    if len(signature) != 64:
        return False
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def did_key(public: PublicKey) -> str:
    """The ``did:key`` identifier of a public key (its verification method adds ``#`` + key)."""
    return f"did:key:{_multikey(public)}"


@dataclass(frozen=True)
class KeyPair:
    """A signing key and the identifiers of its public half.

    ``private_key`` never leaves this object except sealed by the store
    (:meth:`private_pem` is what gets sealed).
    """

    private_key: PrivateKey

    @classmethod
    def generate(cls, algorithm: KeyAlgorithm = "Ed25519") -> KeyPair:
        """Generate a new key pair of the given algorithm."""
        if algorithm == "Ed25519":
            return cls(ed25519.Ed25519PrivateKey.generate())
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes) -> KeyPair:
        """Read a PKCS#8 PEM private key (Ed25519 or P-256).

        Raises:
            InvalidCredentialError: not such a key.
        """
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise InvalidCredentialError("not a PEM private key") from None
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return cls(key)
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return cls(key)
        raise InvalidCredentialError("only Ed25519 and P-256 private keys are supported")

    @property
    def algorithm(self) -> KeyAlgorithm:
        """``Ed25519`` or ``P-256``."""
        return "Ed25519" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else "P-256"

    @property
    def public_key(self) -> PublicKey:
        """The public half."""
        return self.private_key.public_key()

    @property
    def multikey(self) -> str:
        """The public key as a Multikey ``publicKeyMultibase`` value."""
        return _multikey(self.public_key)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, for sealing in the store only."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
