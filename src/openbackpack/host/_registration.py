"""Dynamic client registration (RFC 7591) for Badge Connect and the Open Badges 3.0 API.

Every URL must be https and all on one host name; only ``client_secret_basic``, the code and
refresh grants and ``code`` responses. A host that allows loopback redirects also accepts
``http`` URLs on 127.0.0.1, ::1 or localhost, all counted as one host. The secret is stored
as a SHA-256 digest and shown once, in the 201 answer.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert

from openbackpack.host import _schema as t
from openbackpack.host._apis import BADGE_CONNECT, OAuthApi
from openbackpack.host._clients import digest
from openbackpack.host._settings import HostSettings
from openbackpack.host._wire import OAuthError
from openbackpack.store._types import utcnow

__all__ = ["register"]

_BASIC: Final = "client_secret_basic"
_ALNUM: Final = string.ascii_letters + string.digits
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_URL_FIELDS: Final = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
_TEXT_FIELDS: Final = ("client_name", "software_id", "software_version")
_MAX_TEXT: Final = 255
_MAX_URL: Final = 2048
_MAX_REDIRECTS: Final = 10


@dataclass
class _Problems:
    """Registration problems: (field, message, RFC 7591 error code), first one first."""

    items: list[tuple[str, str, str]]

    def add(self, field: str, message: str, code: str = "invalid_client_metadata") -> None:
        """Record one problem."""
        self.items.append((field, message, code))

    def error(self, badgr: bool) -> OAuthError:
        """The 400 answer naming every problem (Badgr: its message style)."""
        code = self.items[0][2]
        described = [f"{f}: {m}" for f, m, _ in self.items]
        if badgr:
            # Badgr's "error" is the first message with its field, not an RFC 7591 code.
            return OAuthError(
                400, {"error": described[0], "error_description": "; ".join(described)}
            )
        return OAuthError(400, {"error": code, "error_description": "; ".join(described)})


def _is_loopback(host: str | None) -> bool:
    return (host or "").lower() in _LOOPBACK or (host or "").startswith("127.")


def _url_host(value: Any, loopback_ok: bool) -> tuple[str | None, str | None]:
    """The URL's host (loopback hosts as one), or a problem message."""
    if not isinstance(value, str) or not value:
        return None, "This field is required."
    if len(value) > _MAX_URL:
        return None, f"Ensure this field has no more than {_MAX_URL} characters."
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return None, "Must be a valid HTTPS URI"
    if parts.fragment or not host:
        return None, "Must be a valid HTTPS URI"
    if parts.scheme == "https":
        return ("loopback" if loopback_ok and _is_loopback(host) else host.lower()), None
    if parts.scheme == "http" and loopback_ok and _is_loopback(host):
        return "loopback", None
    return None, "Must be a valid HTTPS URI"


def _texts(body: Mapping[str, Any], problems: _Problems) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.add(name, "This field is required.")
        elif len(value) > _MAX_TEXT:
            problems.add(name, f"Ensure this field has no more than {_MAX_TEXT} characters.")
        else:
            values[name] = value.strip()
    return values


def _urls(
    body: Mapping[str, Any], problems: _Problems, loopback_ok: bool
) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    hosts: set[str] = set()
    for name in _URL_FIELDS:
        host, problem = _url_host(body.get(name), loopback_ok)
        if problem:
            problems.add(name, problem)
        else:
            values[name] = str(body[name])
            hosts.add(host or "")
    redirects = body.get("redirect_uris")
    if not isinstance(redirects, list) or not redirects or len(redirects) > _MAX_REDIRECTS:
        problems.add(
            "redirect_uris", "One to ten redirect URIs are required.", "invalid_redirect_uri"
        )
        return values, []
    for uri in redirects:
        host, problem = _url_host(uri, loopback_ok)
        if problem:
            problems.add("redirect_uris", problem, "invalid_redirect_uri")
        else:
            hosts.add(host or "")
    if len(hosts) > 1:
        problems.add(
            "non_field_errors",
            "client_uri, logo_uri, tos_uri, policy_uri, redirect_uris do not match domain.",
        )
    return values, [str(uri) for uri in redirects]


def _choices(
    body: Mapping[str, Any], problems: _Problems, offered: Sequence[str]
) -> dict[str, Any]:
    method = body.get("token_endpoint_auth_method", _BASIC)
    if method != _BASIC:
        problems.add("token_endpoint_auth_method", f'"{method}" is not a valid choice.')
    grants = body.get("grant_types", ["authorization_code"])
    allowed = {"authorization_code", "refresh_token"}
    if (
        not isinstance(grants, list)
        or "authorization_code" not in grants
        or not set(map(str, grants)) <= allowed
    ):
        problems.add("grant_types", "Must include authorization_code; may add refresh_token.")
        grants = []
    responses = body.get("response_types", ["code"])
    if responses != ["code"]:
        problems.add("response_types", 'Only ["code"] is supported.')
    scope = body.get("scope", " ".join(offered))
    if not isinstance(scope, str):
        problems.add("scope", "Must be a space-separated string.")
        scope = ""
    # A host may grant fewer scopes than asked (RFC 7591 §3.2.1): unknown ones are dropped.
    granted = [s for s in dict.fromkeys(scope.split()) if s in offered]
    if not granted:
        problems.add("scope", "None of the requested scopes is offered.")
    return {"method": _BASIC, "grants": [str(g) for g in grants], "scopes": granted}


def _new_client_id() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(40))


def register(
    connection: Connection, body: Any, settings: HostSettings, api: OAuthApi = BADGE_CONNECT
) -> dict[str, Any]:
    """Register a client of ``api`` and return the 201 answer (with the secret, once).

    Raises:
        OAuthError: 400 with RFC 7591's ``invalid_client_metadata`` or
            ``invalid_redirect_uri`` (in Badgr mode, Badgr's messages instead).
    """
    if not isinstance(body, dict):
        raise OAuthError(
            400,
            {"error": "invalid_client_metadata", "error_description": "Expected a JSON object."},
        )
    problems = _Problems([])
    texts = _texts(body, problems)
    urls, redirects = _urls(body, problems, settings.loopback_redirects)
    choices = _choices(body, problems, api.offered(settings))
    badgr = api.badgr(settings)
    if problems.items:
        raise problems.error(badgr)
    client_id, secret, now = _new_client_id(), secrets.token_urlsafe(96), utcnow()
    metadata = {**texts, **urls}
    connection.execute(
        insert(t.oauth_clients).values(
            client_id=client_id,
            secret_hash=digest(secret),
            auth_method=choices["method"],
            redirect_uris=json.dumps(redirects),
            grant_types=json.dumps(choices["grants"]),
            scope=" ".join(choices["scopes"]),
            metadata=json.dumps(metadata),
            created_at=now,
            api=api.key,
        )
    )
    echo = {
        **{name: metadata[name] for name in (*_TEXT_FIELDS[:1], *_URL_FIELDS, *_TEXT_FIELDS[1:])},
        "redirect_uris": redirects,
        "token_endpoint_auth_method": choices["method"],
        "grant_types": choices["grants"],
        "response_types": ["code"],
        "scope": " ".join(choices["scopes"]),
    }
    if badgr:
        # Badgr echoes the default grant whatever was registered, and garbles several URIs.
        echo["grant_types"] = ["authorization_code"]
        if len(redirects) > 1:
            echo["redirect_uris"] = [" "]
    return {
        **echo,
        "client_id": client_id,
        "client_secret": secret,
        "client_id_issued_at": int(now.timestamp()),
        "client_secret_expires_at": 0,
    }
