"""``did:web`` naming and DID documents (pure): which URL a DID resolves to, and what it lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from openbackpack._exceptions import InvalidCredentialError

__all__ = ["DID_CONTEXTS", "VerificationKey", "did_document", "did_web_for", "did_web_url"]

DID_CONTEXTS: Final = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")
"""The contexts of the DID documents this package writes."""


def did_web_for(url: str) -> str:
    """The ``did:web`` of a web location: its host (port encoded) and path segments.

    ``https://lms.example.org/issuer`` gives ``did:web:lms.example.org:issuer``, which
    :func:`did_web_url` resolves to ``https://lms.example.org/issuer/did.json``.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise InvalidCredentialError(f"{url!r} has no host to name a did:web after")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    segments = [quote(host, safe="")] + [quote(s, safe="") for s in parts.path.split("/") if s]
    return "did:web:" + ":".join(segments)


def did_web_url(did: str) -> str:
    """The https URL of a ``did:web``'s DID document (its fragment, if any, ignored).

    Raises:
        InvalidCredentialError: not a ``did:web``.
    """
    base = did.split("#", 1)[0]
    if not base.startswith("did:web:") or len(base) == len("did:web:"):
        raise InvalidCredentialError(f"not a did:web: {did!r}")
    segments = [unquote(s) for s in base[len("did:web:") :].split(":")]
    if len(segments) == 1:
        return f"https://{segments[0]}/.well-known/did.json"
    return "https://" + "/".join(segments) + "/did.json"


VerificationKey = tuple[str, str]
"""A verification method: (fragment id such as ``key-3``, publicKeyMultibase)."""


def did_document(did: str, keys: Sequence[VerificationKey]) -> dict[str, Any]:
    """A DID document listing Multikey verification methods (retired ones too).

    Every key is an ``assertionMethod``: a retired key signs nothing new, but credentials it
    signed must keep verifying, so it stays listed.
    """
    methods = [
        {
            "id": f"{did}#{fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey,
        }
        for fragment, multikey in keys
    ]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
