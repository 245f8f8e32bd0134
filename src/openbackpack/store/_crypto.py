"""Sealing secrets at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken

from openbackpack._exceptions import ConfigurationError, SecretKeyError
from openbackpack._settings import make_private_dir

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "Secret",
    "SecretBox",
    "hash_secret",
    "load_or_create_key_file",
    "new_verification_code",
    "normalize_code",
    "secrets_match",
]

CODE_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: digits and capitals without I, L, O, U, so no code starts with ``-``
(and breaks ``openbackpack verify CODE`` as an option) or mixes up 1/I/L or 0/O."""

CODE_LENGTH: Final = 20
"""20 symbols of 32: 100 bits, more than the 96 of the earlier URL-safe codes."""

_MASK: Final = "**********"


class Secret:
    """A secret value that never shows itself in ``repr``, ``str`` or logs.

    Call :meth:`reveal` at the one place the plain value is needed (an HTTP request body).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the plain value."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", hashlib.sha256(self._value.encode()).digest()))


class SecretBox:
    """Encrypts and decrypts the store's secret columns with one Fernet key."""

    def __init__(self, key: str | bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                "the secret key is not a valid Fernet key (32 url-safe base64-encoded bytes); "
                "create one with `openbackpack db new-key`"
            ) from None

    @staticmethod
    def generate_key() -> str:
        """Return a new random key in Fernet's text form."""
        return Fernet.generate_key().decode("ascii")

    def seal(self, plain: str) -> str:
        """Encrypt ``plain`` into the text stored in the database."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """Decrypt a value sealed with this key.

        Raises:
            SecretKeyError: the value was sealed with another key (or was tampered with).
        """
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise SecretKeyError(
                "a stored secret cannot be decrypted: the secret key is not the one this "
                "store was created with"
            ) from None

    def seal_optional(self, plain: str | Secret | None) -> str | None:
        """Seal a value that may be absent."""
        if plain is None:
            return None
        return self.seal(plain.reveal() if isinstance(plain, Secret) else plain)

    def open_optional(self, sealed: str | None) -> Secret | None:
        """Open a value that may be absent, wrapped so it cannot leak through ``repr``."""
        return None if sealed is None else Secret(self.open(sealed))


def hash_secret(secret: str) -> str:
    """Hash a high-entropy one-time secret (a verification code) for storage."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_verification_code() -> str:
    """A new one-time code of :data:`CODE_LENGTH` symbols of :data:`CODE_ALPHABET`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """A typed code as it was issued: spaces, dashes and case forgiven (Crockford's rules)."""
    return code.strip().replace(" ", "").replace("-", "").upper()


def secrets_match(secret: str, stored_hash: str) -> bool:
    """Compare a presented secret against a stored hash in constant time."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def load_or_create_key_file(path: Path) -> str:
    """Read the key in ``path``, creating it (mode 0600) with a new random key if absent."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    make_private_dir(path.parent)
    key = SecretBox.generate_key()
    try:
        # O_EXCL: two processes starting at once must not write two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _read_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (PermissionError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise ConfigurationError(f"cannot read the secret key file {path}: {exc}") from None
