"""OAuth 2 for Badge Connect, without I/O: PKCE, scopes, requests, and HTTP cache headers.

Authorization code with PKCE (RFC 7636, S256 only), dynamic client registration (RFC 7591),
client authentication by the registered ``token_endpoint_auth_method``, refresh (RFC 6749 §6)
and revocation (RFC 7009). The functions build what goes on the wire; the client sends it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import ValidationError

from openbackpack._exceptions import InvalidResponseError
from openbackpack.models.badgeconnect import ClientRegistration
from openbackpack.protocols._responses import json_object

__all__ = [
    "AUTH_METHODS",
    "OIDC_ONLY_SCOPES",
    "ClientMetadata",
    "authorization_url",
    "client_authentication",
    "code_challenge",
    "code_grant_form",
    "freshness",
    "new_code_verifier",
    "new_state",
    "parse_links",
    "refresh_form",
    "registration_of",
    "registration_payload",
    "requested_scopes",
    "revocation_form",
]

OIDC_ONLY_SCOPES: Final = frozenset({"openid", "profile"})
"""OpenID Connect scopes a Badge Connect host has no use for; Moodle meant to drop these (W11)."""

AUTH_METHODS: Final = ("client_secret_basic", "client_secret_post", "none")
"""The client authentication methods the token and revocation requests support."""

_UNRESERVED: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_code_verifier() -> str:
    """A fresh PKCE code verifier: 64 characters from 48 random bytes (RFC 7636 §4.1)."""
    return _b64url(secrets.token_bytes(48))


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))), unpadded.

    Raises:
        ValueError: the verifier is not 43 to 128 unreserved characters.
    """
    if not _UNRESERVED.fullmatch(verifier):
        raise ValueError("a PKCE code verifier is 43 to 128 unreserved characters")
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def new_state() -> str:
    """A fresh, unguessable ``state`` value (256 random bits)."""
    return secrets.token_urlsafe(32)


def requested_scopes(
    offered: Sequence[str],
    *,
    registered: Sequence[str] | None = None,
    wanted: Sequence[str] | None = None,
) -> list[str]:
    """The scopes to ask for, in the host's order, dropping only what must go.

    Dropped: OpenID Connect's ``openid`` and ``profile`` (meaningless to a Badge Connect host),
    scopes the client was not registered for (``registered``, when the registration said), and
    scopes the caller does not want (``wanted``, when given). Moodle meant to drop ``openid``
    and ``profile`` too, but a failed search indexed ``false`` as ``0`` and always dropped the
    *first* offered scope, usually ``assertion.readonly`` (W11).
    """
    allowed = set(registered) if registered else None
    chosen = set(wanted) if wanted is not None else None
    result: list[str] = []
    for scope in offered:
        if scope in OIDC_ONLY_SCOPES or scope in result:
            continue
        if allowed is not None and scope not in allowed:
            continue
        if chosen is not None and scope not in chosen:
            continue
        result.append(scope)
    return result


def authorization_url(
    authorization_endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
    challenge: str,
) -> str:
    """The URL to send the user's browser to (RFC 6749 §4.1.1 with RFC 7636 §4.3).

    A query the endpoint URL already carries is kept; ``code_challenge_method`` is spelled
    correctly (the specification's own example misspells it).
    """
    parts = urlsplit(authorization_endpoint)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", " ".join(scopes)),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@dataclass(frozen=True, slots=True)
class ClientMetadata:
    """Who the client says it is when it registers (RFC 7591 §2; Moodle's payload, §5.1).

    Badge Connect requires every field; hosts require the URLs to be https and on one host
    name (the reference host allows loopback ``http`` when asked to).
    """

    client_name: str
    client_uri: str
    logo_uri: str
    tos_uri: str
    policy_uri: str
    software_id: str
    software_version: str


def registration_payload(
    metadata: ClientMetadata,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    *,
    token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 - a method name
) -> dict[str, object]:
    """The JSON body of a dynamic registration, as Moodle sends it (plus the scopes asked)."""
    return {
        "client_name": metadata.client_name,
        "client_uri": metadata.client_uri,
        "logo_uri": metadata.logo_uri,
        "tos_uri": metadata.tos_uri,
        "policy_uri": metadata.policy_uri,
        "software_id": metadata.software_id,
        "software_version": metadata.software_version,
        "redirect_uris": list(redirect_uris),
        "token_endpoint_auth_method": token_endpoint_auth_method,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": " ".join(scopes),
    }


def registration_of(content: bytes) -> ClientRegistration:
    """Read a registration answer. Raises :class:`InvalidResponseError` without a client id."""
    body = json_object(content, "register")
    try:
        return ClientRegistration.model_validate(body)
    except ValidationError:
        raise InvalidResponseError(
            "register: the answer has no client_id", action="register"
        ) from None


def client_authentication(
    method: str, client_id: str, client_secret: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and form fields that authenticate the client, by the registered method.

    ``client_secret_basic`` (Badge Connect's only method) is an ``Authorization: Basic``
    header of the form-encoded id and secret (RFC 6749 §2.3.1); ``client_secret_post`` puts
    both in the body; ``none`` sends the id only. Moodle sent Basic for the code exchange but
    the secret in the body for refreshes, whatever the registration said (W12).

    Raises:
        ValueError: an unknown method, or a secret-based method without a secret.
    """
    if method not in AUTH_METHODS:
        raise ValueError(f"unsupported token_endpoint_auth_method {method!r}")
    if method == "none":
        return {}, {"client_id": client_id}
    if client_secret is None:
        raise ValueError(f"{method} needs a client secret, and none is stored")
    if method == "client_secret_post":
        return {}, {"client_id": client_id, "client_secret": client_secret}
    pair = f"{_form(client_id)}:{_form(client_secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}, {}


def _form(value: str) -> str:
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined with ":".
    return urlencode({"": value})[1:]


def code_grant_form(
    code: str, redirect_uri: str, verifier: str, scopes: Sequence[str]
) -> dict[str, str]:
    """The token request body that trades an authorization code (RFC 6749 §4.1.3)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }
    if scopes:
        form["scope"] = " ".join(scopes)
    return form


def refresh_form(refresh_token: str, scope: str = "") -> dict[str, str]:
    """The token request body of a refresh (RFC 6749 §6)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if scope:
        form["scope"] = scope
    return form


def revocation_form(token: str, hint: str) -> dict[str, str]:
    """The revocation request body (RFC 7009 §2.1); ``hint`` is the token's type."""
    return {"token": token, "token_type_hint": hint}


_LINK = re.compile(r"<(?P<url>[^>]*)>(?P<params>[^,<]*)")
_REL = re.compile(r""";\s*rel\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s;,]+))""", re.IGNORECASE)


def parse_links(header: str | None) -> dict[str, str]:
    """The targets of a ``Link`` header by relation (RFC 8288): ``{"next": url, ...}``.

    Entries may be joined with ``,`` and any spacing (Badgr leaves none); a ``rel`` naming
    several relations gives each of them the target. The first target of a relation wins.
    """
    links: dict[str, str] = {}
    for match in _LINK.finditer(header or ""):
        rel = _REL.search(match.group("params"))
        if rel is None:
            continue
        for name in (rel.group("quoted") or rel.group("bare") or "").split():
            links.setdefault(name.lower(), match.group("url").strip())
    return links


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)


def freshness(headers: Mapping[str, str], now: datetime | None = None) -> timedelta | None:
    """How long an answer may be reused without asking again (RFC 9111 §4.2.1).

    ``Cache-Control: no-cache``/``no-store`` give zero; ``max-age`` wins over ``Expires``
    (relative to ``Date``, or now). None means the answer did not say.
    """
    control = _header(headers, "cache-control") or ""
    if _NO_CACHE.search(control):
        return timedelta(0)
    found = _MAX_AGE.search(control)
    if found:
        return timedelta(seconds=int(found.group(1)))
    expires = _date(_header(headers, "expires"))
    if expires is None:
        return None if _header(headers, "expires") is None else timedelta(0)
    start = _date(_header(headers, "date")) or now or datetime.now(UTC)
    return max(timedelta(0), expires - start)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # httpx2.Headers is case-insensitive, a plain dict is not: look both ways.
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
