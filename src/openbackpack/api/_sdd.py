"""An Open Badges 3.0 service description, read into the record Badge Connect manifests use.

What a client needs from the description (:func:`openbackpack.protocols.ob3api.description_of`)
lands in the same :class:`~openbackpack.models.badgeconnect.ManifestEntry` a Badge Connect
manifest gives, so that registration, authorization, refresh and revocation are one code path
for both generations.
"""

from __future__ import annotations

from urllib.parse import urljoin

from pydantic import ValidationError

from openbackpack._exceptions import InvalidResponseError
from openbackpack.models.badgeconnect import ManifestEntry
from openbackpack.protocols import ob3api as ob3

__all__ = ["service_entry"]


def service_entry(content: bytes, url: str) -> ManifestEntry:
    """Read a service description fetched from ``url`` into a manifest entry.

    The API base is the first server URL, else the one ``url`` is the discovery URL of.

    Raises:
        InvalidResponseError: not a service description, or an endpoint that is not http(s).
    """
    description = ob3.description_of(content)
    flow = description.flow
    fields = {
        "name": description.info.title,
        "image": description.info.image,
        "apiBase": urljoin(url, description.api_base or ob3.api_url(url)),
        "version": "v3p0",
        "termsOfServiceUrl": description.info.terms_of_service,
        "privacyPolicyUrl": description.info.privacy_policy_url,
        "scopesOffered": description.scopes,
        "registrationUrl": description.registration_url,
        "authorizationUrl": flow.authorization_url,
        "tokenUrl": flow.token_url,
        "tokenRevocationUrl": description.oauth.revocation_url,
    }
    try:
        return ManifestEntry.model_validate(fields)
    except ValidationError as exc:
        raise InvalidResponseError(
            f"discovery: not a usable service description: {exc.errors()[0]['msg']}",
            action="discovery",
        ) from None
