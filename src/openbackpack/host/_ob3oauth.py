"""The 3.0 API's service description and OAuth 2 endpoints on the host.

``GET /ims/ob/v3p0/discovery`` serves the specification's OpenAPI file, profiled for this
host as the specification asks: its server URL, its name, terms and privacy policy
(``x-imssf-privacyPolicyUrl``), and the ``OAuth2ACG`` scheme with the registration URL
(``x-imssf-registrationUrl``), the authorization and token URLs, the scopes, and the
revocation URL under openbackpack's extension name. The answer carries ``ETag`` and
``Last-Modified`` and honours ``If-None-Match`` / ``If-Modified-Since`` with 304.

Registration, the login and consent page, the token endpoint and revocation at
``/o/v3p0/...`` are Badge Connect's implementations run with the 3.0 API's data
(:data:`~openbackpack.host._apis.OB3`): the same https and same-host rules, PKCE S256 always.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Final

from starlette.responses import Response

from openbackpack.host._apis import OB3
from openbackpack.host._authorize import (
    AuthorizeParams,
    authorization_page,
    authorization_submit,
)
from openbackpack.host._loop import on_loop
from openbackpack.host._oauth import (
    OAuthForm,
    RegistrationBody,
    client_token,
    registration_answer,
    revoke_token,
)
from openbackpack.host._registry import OB3API, handles
from openbackpack.host._state import Ctx, Open
from openbackpack.host._wire import dumps
from openbackpack.models.ob3api import REVOCATION_EXTENSION
from openbackpack.protocols import ob3api
from openbackpack.protocols.ob3api import API_PATH

__all__ = ["service_description"]

_NAME: Final = "openbackpack reference host"
_LOGO: Final = "data:image/svg+xml;base64," + base64.b64encode(
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    b'<rect width="64" height="64" rx="12" fill="#2a6f97"/></svg>'
).decode("ascii")
_MAX_AGE: Final = 300
# The document changes only with a new release: the moment this one was loaded stands for it.
_LOADED: Final = datetime.now(UTC).replace(microsecond=0)


@cache
def _specification() -> dict[str, Any]:
    text = resources.files("openbackpack.host").joinpath("data/ob_v3p0_openapi.json")
    document: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return document


def _url(origin: str, name: str) -> str:
    return origin + ob3api.route(name).path


def service_description(origin: str) -> dict[str, Any]:
    """The service description document of a host at ``origin``."""
    document = copy.deepcopy(_specification())
    flow = document["components"]["securitySchemes"]["OAuth2ACG"]["flows"]["authorizationCode"]
    scopes = {scope: flow["scopes"].get(scope, scope) for scope in OB3.scopes}
    document["servers"] = [{"url": origin + API_PATH, "description": _NAME}]
    document["info"] = {
        **document["info"],
        "title": _NAME,
        "description": "The Open Badges 3.0 API of an openbackpack reference host.",
        "version": "3.0",
        "termsOfService": f"{origin}/terms-of-service",
        "x-imssf-privacyPolicyUrl": f"{origin}/privacy-policy",
        "x-imssf-image": _LOGO,
    }
    document["components"]["securitySchemes"] = {
        "OAuth2ACG": {
            "type": "oauth2",
            "description": "OAuth 2.0 authorization code grant with PKCE (S256)",
            "x-imssf-registrationUrl": _url(origin, "register"),
            REVOCATION_EXTENSION: _url(origin, "revoke"),
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": _url(origin, "authorize"),
                    "tokenUrl": _url(origin, "token"),
                    "refreshUrl": _url(origin, "token"),
                    "scopes": scopes,
                }
            },
        }
    }
    return document


@lru_cache(maxsize=32)
def _encoded(origin: str) -> tuple[bytes, str]:
    content = dumps(service_description(origin))
    return content, '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _not_modified_since(value: str) -> bool:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment >= _LOADED


def _fresh(ctx: Ctx, etag: str) -> bool:
    # RFC 9110 §13.2.2: If-None-Match, when sent, decides alone.
    match = ctx.request.headers.get("if-none-match")
    if match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in match.split(",")}
        return etag in tags or "*" in tags
    since = ctx.request.headers.get("if-modified-since")
    return since is not None and _not_modified_since(since)


@handles(OB3API, "discovery")
@on_loop
def discovery(ctx: Open) -> Response:
    """The service description, cacheable, with validators for conditional requests."""
    content, etag = _encoded(ctx.origin)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(_LOADED, usegmt=True),
        "Cache-Control": f"public, max-age={_MAX_AGE}",
    }
    if _fresh(ctx, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)


@handles(OB3API, "register")
def register_client(ctx: Open, body: RegistrationBody) -> Response:
    """Register a 3.0 API client (RFC 7591); 201 with its id and secret."""
    return registration_answer(ctx, body, OB3)


@handles(OB3API, "authorize")
def authorize_page(ctx: Open, _query: AuthorizeParams) -> Response:
    """Show the login and consent form for a valid 3.0 authorization request."""
    return authorization_page(ctx, OB3)


@handles(OB3API, "authorize.submit")
def authorize_submit(ctx: Open, form: OAuthForm) -> Response:
    """Log in and consent: redirect to the client with a code and its state."""
    return authorization_submit(ctx, form, OB3)


@handles(OB3API, "token")
def token(ctx: Open, form: OAuthForm) -> Response:
    """Trade a code (with its PKCE verifier) or a refresh token for tokens."""
    return client_token(ctx, form, OB3)


@handles(OB3API, "revoke")
def revoke(ctx: Open, form: OAuthForm) -> Response:
    """Revoke a token pair of the authenticated client (RFC 7009): 200 even if unknown."""
    return revoke_token(ctx, form, OB3)
