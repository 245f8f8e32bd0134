"""Badge Connect (Open Badges 2.1) documents: the manifest, the status envelope, registrations.

Read tolerantly: Badgr's deviations (``version`` ``"v1p0"``, ``@context`` last, ``error`` as
an array or an object, ``results`` instead of ``assertions``) validate as well as the 1EdTech
shapes (open-badges.md §1.5, badgr-wire.md §7).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from openbackpack.models._base import WireModel

__all__ = [
    "BadgeConnectProfile",
    "ClientRegistration",
    "Manifest",
    "ManifestEntry",
    "StatusInfo",
]


def _http_url(value: str | None, field: str) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError(f"{field} must be an http(s) URL")
    return value


class ManifestEntry(WireModel):
    """One ``badgeConnectAPI`` entry of a manifest: where a host's API and OAuth endpoints are."""

    name: str = ""
    image: str | None = None
    api_base: str = Field(alias="apiBase")
    version: str = ""
    terms_of_service_url: str | None = Field(default=None, alias="termsOfServiceUrl")
    privacy_policy_url: str | None = Field(default=None, alias="privacyPolicyUrl")
    scopes_offered: list[str] = Field(default_factory=list, alias="scopesOffered")
    registration_url: str | None = Field(default=None, alias="registrationUrl")
    authorization_url: str = Field(alias="authorizationUrl")
    token_url: str = Field(alias="tokenUrl")
    token_revocation_url: str | None = Field(default=None, alias="tokenRevocationUrl")

    @field_validator("api_base", "authorization_url", "token_url")
    @classmethod
    def _required_url(cls, value: str) -> str:
        # Tokens and credentials are sent to these: never to anything but http(s).
        checked = _http_url(value, "an API or OAuth endpoint")
        assert checked is not None
        return checked.rstrip("/") if checked.endswith("/") else checked

    @field_validator("registration_url", "token_revocation_url")
    @classmethod
    def _optional_url(cls, value: str | None) -> str | None:
        return _http_url(value, "an OAuth endpoint")


class Manifest(WireModel):
    """A Badge Connect manifest (``/.well-known/badgeconnect.json``)."""

    id: str | None = None
    type: str | None = None
    badge_connect_api: list[ManifestEntry] = Field(alias="badgeConnectAPI", min_length=1)

    def entry(self) -> ManifestEntry:
        """The entry to use: the one whose version is ``v2p1``, else the last one.

        Moodle always takes the last entry; a host listing several versions is better served
        by the one this client speaks.
        """
        for entry in self.badge_connect_api:
            if entry.version.lower() == "v2p1":
                return entry
        return self.badge_connect_api[-1]


class StatusInfo(WireModel):
    """The ``status`` of every Badge Connect answer.

    ``error`` is a string in the specification; Badgr also sends null, a list (of strings or
    of ``{"name", "description"}`` objects) or an object of field errors.
    """

    error: Any = None
    status_code: int = Field(alias="statusCode")
    status_text: str = Field(default="", alias="statusText")

    @property
    def message(self) -> str:
        """The error as one line of text (a list joined with ``", "``), or ``""``."""
        return _text(self.error)

    @property
    def ok(self) -> bool:
        """Whether the status says success (``statusCode`` 200, as Moodle requires)."""
        return self.status_code == 200


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(part for part in (_text(item) for item in value) if part)
    if isinstance(value, dict):
        name, description = value.get("name"), value.get("description")
        if name and description:
            return f"{name}: {description}"
        return json.dumps(value, sort_keys=True)
    return str(value)


class ClientRegistration(WireModel):
    """A dynamic client registration answer (RFC 7591 §3.2.1); the secret never shows."""

    client_id: str
    client_secret: str | None = Field(default=None, repr=False)
    client_id_issued_at: int | None = None
    client_secret_expires_at: int | None = None
    token_endpoint_auth_method: str = "client_secret_basic"
    grant_types: list[str] = Field(default_factory=list)
    redirect_uris: list[str] = Field(default_factory=list)
    scope: str = ""

    def public(self) -> dict[str, Any]:
        """The answer without the client secret (what may be stored in plain text)."""
        return self.model_dump(by_alias=True, exclude={"client_secret"}, exclude_none=True)


class BadgeConnectProfile(WireModel):
    """The profile of the account a token belongs to (``GET /profile``).

    The specification sends an OB 2.0 Profile with ``id`` and ``type``; Badgr sends only
    ``name`` and ``email``, in a ``results`` list.
    """

    id: str | None = None
    type: str | None = None
    name: str | None = None
    email: str | None = None
