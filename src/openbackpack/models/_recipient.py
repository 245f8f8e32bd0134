"""Hashing a recipient's email, and checking an assertion's recipient against an email.

Both the issuing side (which hashes) and the backpack side (which checks a badge it was given)
need the same rules, so they live here, free of I/O.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from openbackpack.models._ob2 import Assertion, IdentityObject

__all__ = ["HashAlgorithm", "RecipientMatch", "hash_identity", "match_recipient"]

HashAlgorithm = Literal["sha256", "md5"]

_ALGORITHMS: Final[dict[str, HashAlgorithm]] = {"sha256": "sha256", "md5": "md5"}
_EMAIL_TYPES: Final = frozenset({"email", "schema:email", "http://schema.org/email"})


def hash_identity(identity: str, salt: str = "", algorithm: HashAlgorithm = "sha256") -> str:
    """Return an OB 2.0 IdentityHash: ``"<algorithm>$"`` + hex digest of identity + salt.

    The identity is hashed exactly as given; :func:`match_recipient` is the lenient side.
    """
    # md5 is only ever computed to *read* legacy badges; nothing here issues md5 hashes.
    digest = hashlib.new(algorithm, (identity + salt).encode("utf-8"), usedforsecurity=False)
    return f"{algorithm}${digest.hexdigest()}"


@dataclass(frozen=True, slots=True)
class RecipientMatch:
    """Whether an assertion was awarded to an email, and why (or why not), in plain words."""

    matched: bool
    reason: str

    def __bool__(self) -> bool:
        return self.matched


def match_recipient(
    source: Assertion | IdentityObject | Mapping[str, Any], email: str
) -> RecipientMatch:
    """Check whether an assertion's recipient is ``email``.

    ``source`` is an assertion (model or JSON) or its ``recipient`` IdentityObject. Hashed
    identities (``sha256$`` or ``md5$``, hex in either case) are compared with the email
    followed by the recipient's ``salt`` (if any); plain ones are compared directly. Each
    comparison is tried with the email as given, then lower-cased, because issuers disagree
    on the case of addresses.
    """
    recipient = _recipient_of(source)
    if recipient is None:
        return RecipientMatch(False, "the assertion has no recipient")
    if recipient.type not in _EMAIL_TYPES:
        return RecipientMatch(
            False, f"the recipient is identified by {recipient.type!r}, not by an email address"
        )
    if not recipient.hashed:
        return _match_plain(recipient.identity, email)
    return _match_hashed(recipient.identity, recipient.salt or "", email)


def _recipient_of(source: Assertion | IdentityObject | Mapping[str, Any]) -> IdentityObject | None:
    if isinstance(source, IdentityObject):
        return source
    if isinstance(source, Assertion):
        return source.recipient
    data = source.get("recipient", source)
    if not isinstance(data, Mapping) or "identity" not in data:
        return None
    try:
        return IdentityObject.model_validate(data)
    except ValueError:
        return None


def _variants(email: str) -> Iterator[tuple[str, str]]:
    given = email.strip()
    yield given, "the email"
    if given.lower() != given:
        yield given.lower(), "the lower-cased email"


def _match_plain(identity: str, email: str) -> RecipientMatch:
    for candidate, label in _variants(email):
        if identity.strip() == candidate:
            return RecipientMatch(True, f"the plain-text recipient equals {label}")
    if identity.strip().lower() == email.strip().lower():
        return RecipientMatch(True, "the plain-text recipient equals the email, ignoring case")
    return RecipientMatch(False, "the plain-text recipient is another email address")


def _match_hashed(identity: str, salt: str, email: str) -> RecipientMatch:
    prefix, dollar, digest = identity.strip().partition("$")
    algorithm = _ALGORITHMS.get(prefix.lower())
    if not dollar or algorithm is None:
        return RecipientMatch(
            False, f"the hashed recipient does not start with sha256$ or md5$ (it has {prefix!r})"
        )
    salted = "with the recipient's salt" if salt else "without a salt"
    for candidate, label in _variants(email):
        if _same_digest(hash_identity(candidate, salt, algorithm), algorithm, digest):
            return RecipientMatch(True, f"the {algorithm} hash of {label} {salted} matches")
    return RecipientMatch(False, _mismatch_reason(algorithm, digest, salt, email))


def _mismatch_reason(algorithm: HashAlgorithm, digest: str, salt: str, email: str) -> str:
    if salt and any(
        _same_digest(hash_identity(candidate, "", algorithm), algorithm, digest)
        for candidate, _ in _variants(email)
    ):
        # A common issuer bug: the salt is published but was not used for hashing.
        return (
            f"the {algorithm} hash matches the email only without the recipient's salt, "
            "so the issuer published a salt it did not use"
        )
    salted = "with the recipient's salt" if salt else "without a salt"
    return f"neither the email nor its lower-cased form hashes ({algorithm}, {salted}) to it"


def _same_digest(expected: str, algorithm: HashAlgorithm, digest: str) -> bool:
    # Hex digests are compared without regard to case, as the validators do.
    wanted = expected.removeprefix(f"{algorithm}$")
    return hmac.compare_digest(wanted.lower().encode(), digest.strip().lower().encode())
