"""Reading an Open Badges 3.0 service description document (the ``discovery`` answer), purely.

The document is a profiled OpenAPI 3.0 file. What a client needs from it lands in the same
:class:`~openbackpack.models.badgeconnect.ManifestEntry` a Badge Connect manifest gives, so
registration, authorization, refresh and revocation are one code path for both generations:
``info.title`` and ``info.x-imssf-image`` (name, image), ``info.termsOfService`` and
``info.x-imssf-privacyPolicyUrl``, ``servers[0].url`` (the API base), and the ``OAuth2ACG``
security scheme (``x-imssf-registrationUrl``, the authorization code flow's
``authorizationUrl``, ``tokenUrl`` and ``scopes``). The specification names no revocation
endpoint; a host may announce one as ``x-imssf-revocationUrl`` (or ``revocationUrl``) on the
scheme or its flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

from pydantic import ValidationError

from openbackpack._exceptions import InvalidResponseError
from openbackpack.models.badgeconnect import ManifestEntry
from openbackpack.protocols import decode_json

__all__ = ["API_PATH", "DISCOVERY_PATH", "discovery_url", "service_entry"]

API_PATH: Final = "/ims/ob/v3p0"
"""How an OB 3.0 API base ends (a tenant prefix may come before it)."""
DISCOVERY_PATH: Final = API_PATH + "/discovery"
"""Where the service description document is, under the API base's prefix."""

_ACTION: Final = "discovery"


def discovery_url(api_url: str, web_url: str) -> str:
    """The discovery URL of a provider: under its API URL when that is an OB 3.0 base.

    Else under the web URL (which may carry a tenant prefix), unless that already names the
    document itself.
    """
    for url in (api_url, web_url):
        path = urlsplit(url.strip()).path.rstrip("/")
        if path.endswith(DISCOVERY_PATH):
            return _without_query(url).rstrip("/")
        if path.endswith(API_PATH):
            return _without_query(url).rstrip("/") + "/discovery"
    return _without_query(web_url).rstrip("/") + DISCOVERY_PATH


def _without_query(url: str) -> str:
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidResponseError(
            f"discovery: the service description has no {where} object", action=_ACTION
        )
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _api_base(document: Mapping[str, Any], url: str) -> str:
    servers = document.get("servers")
    first = servers[0] if isinstance(servers, list) and servers else None
    server = _text(first.get("url")) if isinstance(first, Mapping) else None
    if server is None:
        # No server named: the API is where the discovery document was found.
        return url.rsplit("/discovery", 1)[0]
    return urljoin(url, server).rstrip("/")


def _revocation(scheme: Mapping[str, Any], flow: Mapping[str, Any]) -> str | None:
    for holder in (flow, scheme):
        for key in ("x-imssf-revocationUrl", "revocationUrl"):
            found = _text(holder.get(key))
            if found is not None:
                return found
    return None


def service_entry(content: bytes, url: str) -> ManifestEntry:
    """Read a service description document fetched from ``url`` into a manifest entry.

    Relative URLs are resolved against ``url``; every endpoint must be http(s).

    Raises:
        InvalidResponseError: not JSON, or no ``OAuth2ACG`` authorization code flow with an
            authorization and a token URL.
    """
    document = _object(decode_json(content), "top-level")
    info = _object(document.get("info"), "info")
    components = _object(document.get("components"), "components")
    schemes = _object(components.get("securitySchemes"), "securitySchemes")
    scheme = _object(schemes.get("OAuth2ACG"), "OAuth2ACG security scheme")
    flows = _object(scheme.get("flows"), "OAuth2ACG flows")
    flow = _object(flows.get("authorizationCode"), "authorizationCode flow")
    scopes = flow.get("scopes")

    def absolute(value: Any) -> str | None:
        text = _text(value)
        return urljoin(url, text) if text is not None else None

    fields: dict[str, Any] = {
        "name": _text(info.get("title")) or "",
        "image": _text(info.get("x-imssf-image")),
        "apiBase": _api_base(document, url),
        "version": "v3p0",
        "termsOfServiceUrl": _text(info.get("termsOfService")),
        "privacyPolicyUrl": _text(info.get("x-imssf-privacyPolicyUrl")),
        "scopesOffered": [str(s) for s in scopes] if isinstance(scopes, Mapping) else [],
        "registrationUrl": absolute(scheme.get("x-imssf-registrationUrl")),
        "authorizationUrl": absolute(flow.get("authorizationUrl")),
        "tokenUrl": absolute(flow.get("tokenUrl")),
        "tokenRevocationUrl": absolute(_revocation(scheme, flow)),
    }
    try:
        return ManifestEntry.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InvalidResponseError(
            f"discovery: not a usable service description ({where}: {error['msg']})",
            action=_ACTION,
        ) from None
