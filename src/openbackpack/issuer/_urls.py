"""The public URL layout of hosted Open Badges documents.

The route templates below are used both to build document ids and to declare the hosted
endpoints, so the ids a document carries and the URLs that answer them cannot drift apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from openbackpack.store._validate import normalise_url

__all__ = [
    "ASSERTION_COPY_PATH",
    "ASSERTION_PATH",
    "BADGE_IMAGE_PATH",
    "BADGE_PATH",
    "CREDENTIAL_PATH",
    "ENDORSEMENT_PATH",
    "ISSUER_DID_PATH",
    "ISSUER_IMAGE_PATH",
    "ISSUER_PATH",
    "REVOCATIONS_PATH",
    "STATUS_LIST_PATH",
    "IssuerUrls",
    "recipient_digest",
]

ASSERTION_PATH: Final = "/ob/assertions/{award_hash}"
ASSERTION_COPY_PATH: Final = "/ob/assertions/{award_hash}/recipients/{digest}"
BADGE_PATH: Final = "/ob/badges/{badge_id}"
BADGE_IMAGE_PATH: Final = "/ob/badges/{badge_id}/image"
ISSUER_PATH: Final = "/ob/issuers/{issuer_id}"
ISSUER_IMAGE_PATH: Final = "/ob/issuers/{issuer_id}/image"
REVOCATIONS_PATH: Final = "/ob/issuers/{issuer_id}/revocations"
ENDORSEMENT_PATH: Final = "/ob/endorsements/{endorsement_id}"
CREDENTIAL_PATH: Final = "/ob3/credentials/{award_hash}"
ISSUER_DID_PATH: Final = "/ob/issuers/{issuer_id}/did.json"
STATUS_LIST_PATH: Final = "/ob3/issuers/{issuer_id}/status"


@dataclass(frozen=True, slots=True)
class IssuerUrls:
    """Public URLs of hosted documents under one base URL.

    ``base_url`` is where the issuer app is reachable from the outside, including any path it
    is mounted under (``https://badges.example.org`` or ``https://lms.example.org/issuer``).
    """

    base_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_url("base_url", self.base_url))

    def assertion(self, award_hash: str) -> str:
        """The URL (and OB id) of an award's Assertion."""
        return self._url(ASSERTION_PATH, award_hash=award_hash)

    def assertion_for(self, award_hash: str, email: str) -> str:
        """The URL (and OB id) of an award's copy for another (verified) recipient email."""
        return self._url(
            ASSERTION_COPY_PATH, award_hash=award_hash, digest=recipient_digest(award_hash, email)
        )

    def badge(self, badge_id: int) -> str:
        """The URL of a BadgeClass."""
        return self._url(BADGE_PATH, badge_id=badge_id)

    def badge_image(self, badge_id: int) -> str:
        """The URL of a badge class's image."""
        return self._url(BADGE_IMAGE_PATH, badge_id=badge_id)

    def issuer(self, issuer_id: int) -> str:
        """The URL of an issuer's Profile."""
        return self._url(ISSUER_PATH, issuer_id=issuer_id)

    def issuer_image(self, issuer_id: int) -> str:
        """The URL of an issuer's image."""
        return self._url(ISSUER_IMAGE_PATH, issuer_id=issuer_id)

    def revocations(self, issuer_id: int) -> str:
        """The URL of an issuer's RevocationList."""
        return self._url(REVOCATIONS_PATH, issuer_id=issuer_id)

    def endorsement(self, endorsement_id: int) -> str:
        """The URL of an Endorsement."""
        return self._url(ENDORSEMENT_PATH, endorsement_id=endorsement_id)

    def credential(self, award_hash: str) -> str:
        """The URL (and id) of an award's Open Badges 3.0 credential."""
        return self._url(CREDENTIAL_PATH, award_hash=award_hash)

    def issuer_did_location(self, issuer_id: int) -> str:
        """Where the issuer's ``did:web`` lives: its DID document is this URL + ``/did.json``."""
        return self.issuer(issuer_id)

    def status_list(self, issuer_id: int) -> str:
        """The URL of an issuer's BitstringStatusList credential."""
        return self._url(STATUS_LIST_PATH, issuer_id=issuer_id)

    def _url(self, template: str, **values: object) -> str:
        return self.base_url + template.format(**values)


def recipient_digest(award_hash: str, email: str) -> str:
    """The stable path segment naming an award's copy for ``email`` (case-insensitive).

    A digest, not the address, so the URL does not publish the email; the issuer app checks
    it against the award owner's verified backpack emails before serving the copy.
    """
    data = f"{award_hash}\n{email.strip().casefold()}".encode()
    return hashlib.sha256(data).hexdigest()[:32]
