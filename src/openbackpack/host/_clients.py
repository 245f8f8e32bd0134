"""OAuth 2 clients of the host: registration, client authentication, codes, tokens.

Badge Connect and the Open Badges 3.0 API run the same rules (their differences are data,
:class:`~openbackpack.host._apis.OAuthApi`); a client belongs to the API it registered with.

Registration follows RFC 7591 with Badge Connect's rules (every URL https and on one host
name; only ``client_secret_basic``, the code and refresh grants, ``code`` responses). A host
that allows loopback redirects also accepts ``http`` URLs on 127.0.0.1, ::1 or localhost, all
counted as one host, and matches a loopback redirect URI whatever its port (RFC 8252 §7.3).
Codes are single use, short-lived, bound to client, redirect URI and PKCE challenge; a replayed
code revokes the token it was traded for (RFC 6749 §4.1.2). Secrets and codes are stored as
SHA-256 digests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import unquote_plus, urlsplit

from sqlalchemy import Connection, Row, delete, insert, select, update
from starlette.requests import Request

from openbackpack.host import _schema as t
from openbackpack.host._accounts import IssuedToken, issue_token, rotate_refresh_token
from openbackpack.host._apis import BADGE_CONNECT, OAuthApi
from openbackpack.host._settings import HostSettings
from openbackpack.host._wire import OAuthError
from openbackpack.store._types import utcnow

__all__ = [
    "BADGR_SCOPES",
    "SCOPES",
    "Client",
    "CodeReplayError",
    "Credentials",
    "authenticate_client",
    "client_credentials",
    "find_client",
    "grant_code",
    "invalid_client",
    "issue_code",
    "offered_scopes",
    "purge_codes",
    "redirect_allowed",
    "refresh",
    "register",
    "revoke_replayed",
]

SCOPES: Final = BADGE_CONNECT.scopes
"""What the host offers in the specification's mode."""
BADGR_SCOPES: Final = BADGE_CONNECT.badgr_scopes
"""What Badgr offers: no ``profile.update``, no ``offline_access``."""

_ALNUM: Final = string.ascii_letters + string.digits
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_URL_FIELDS: Final = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
_TEXT_FIELDS: Final = ("client_name", "software_id", "software_version")
_MAX_TEXT: Final = 255
_MAX_URL: Final = 2048
_MAX_REDIRECTS: Final = 10
_BASIC: Final = "client_secret_basic"
_POST: Final = "client_secret_post"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def offered_scopes(settings: HostSettings, api: OAuthApi = BADGE_CONNECT) -> tuple[str, ...]:
    """The scopes the manifest (or service description) offers in the host's mode."""
    return api.offered(settings)


@dataclass(frozen=True, slots=True)
class Client:
    """A registered client (of Badge Connect, or of the 3.0 API: ``api``)."""

    id: int
    client_id: str
    auth_method: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    name: str
    api: str = BADGE_CONNECT.key


def _client(row: Row[Any]) -> Client:
    return Client(
        id=row.id,
        client_id=row.client_id,
        auth_method=row.auth_method,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        grant_types=tuple(json.loads(row.grant_types)),
        scopes=tuple(row.scope.split()),
        name=json.loads(row.metadata).get("client_name", ""),
        api=row.api,
    )


def find_client(
    connection: Connection, client_id: str, api: OAuthApi = BADGE_CONNECT
) -> Client | None:
    """The client of ``api`` registered with that id, or None."""
    row = connection.execute(
        select(t.oauth_clients).where(
            t.oauth_clients.c.client_id == client_id[:64], t.oauth_clients.c.api == api.key
        )
    ).one_or_none()
    return None if row is None else _client(row)


# ----------------------------------------------------------------------- registration


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
            secret_hash=_digest(secret),
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


# --------------------------------------------------------------- client authentication


@dataclass(frozen=True, slots=True)
class Credentials:
    """Client credentials as presented: id, secret, and how they were sent."""

    client_id: str
    secret: str
    method: str


def client_credentials(request: Request, form: Mapping[str, str]) -> Credentials | None:
    """The client credentials of a token or revocation request, if any were sent.

    Raises:
        OAuthError: 401 ``invalid_client`` for a Basic header that cannot be decoded.
    """
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_client() from None
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both halves are form-encoded before they are joined.
        return Credentials(unquote_plus(client_id), unquote_plus(secret), _BASIC)
    if "client_id" in form:
        return Credentials(form["client_id"], form.get("client_secret", ""), _POST)
    return None


def invalid_client(api: OAuthApi = BADGE_CONNECT) -> OAuthError:
    """The 401 ``invalid_client`` answer, with the API's ``WWW-Authenticate`` realm."""
    return OAuthError(
        401,
        {"error": "invalid_client", "error_description": "Client authentication failed."},
        headers={"WWW-Authenticate": f'Basic realm="{api.realm}"'},
    )


def authenticate_client(
    connection: Connection, credentials: Credentials, api: OAuthApi = BADGE_CONNECT
) -> Client:
    """The client of ``api`` whose id, secret and method all match its registration.

    Raises:
        OAuthError: 401 ``invalid_client`` otherwise.
    """
    row = connection.execute(
        select(t.oauth_clients).where(
            t.oauth_clients.c.client_id == credentials.client_id[:64],
            t.oauth_clients.c.api == api.key,
        )
    ).one_or_none()
    presented = _digest(credentials.secret)
    expected = row.secret_hash if row is not None else _digest(secrets.token_hex(16))
    if row is None or not hmac.compare_digest(presented, expected):
        raise invalid_client(api)
    if credentials.method != row.auth_method:
        raise invalid_client(api)
    return _client(row)


def redirect_allowed(registered: Sequence[str], given: str) -> bool:
    """Whether ``given`` is a registered redirect URI (a loopback IP one on any port)."""
    if given in registered:
        return True
    try:
        wanted = urlsplit(given)
        host = wanted.hostname
    except ValueError:
        return False
    if wanted.scheme != "http" or host not in ("127.0.0.1", "::1"):
        return False
    for uri in registered:
        known = urlsplit(uri)
        same = (known.scheme, known.hostname, known.path, known.query)
        if same == (wanted.scheme, host, wanted.path, wanted.query):
            return True
    return False


# ------------------------------------------------------------------------------ codes


def issue_code(
    connection: Connection,
    client: Client,
    user_id: int,
    *,
    redirect_uri: str,
    scopes: Sequence[str],
    challenge: str | None,
    method: str | None,
    lifetime: int,
) -> str:
    """Issue a single-use authorization code; only its digest is stored."""
    purge_codes(connection)
    code = secrets.token_urlsafe(32)
    connection.execute(
        insert(t.oauth_codes).values(
            code_hash=_digest(code),
            client_id=client.id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scope=" ".join(scopes),
            challenge=challenge,
            challenge_method=method,
            expires_at=utcnow() + timedelta(seconds=lifetime),
        )
    )
    return code


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError(400, {"error": "invalid_grant", "error_description": description})


def _pkce_matches(row: Row[Any], verifier: str | None) -> bool:
    if row.challenge is None:
        return True
    if not verifier:
        return False
    if row.challenge_method == "plain":
        return hmac.compare_digest(verifier, row.challenge)
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(expected, row.challenge)


class CodeReplayError(OAuthError):
    """A code presented a second time: ``invalid_grant``, and its token must be revoked.

    The revocation runs in a transaction of its own (:func:`revoke_replayed`), since the
    failing request's transaction is rolled back.
    """

    def __init__(self, token_id: int | None) -> None:
        super().__init__(
            400,
            {"error": "invalid_grant", "error_description": "The authorization code was used."},
        )
        self.token_id = token_id


def revoke_replayed(connection: Connection, error: CodeReplayError) -> None:
    """Revoke what a replayed code was traded for (RFC 6749 §4.1.2)."""
    if error.token_id is not None:
        connection.execute(delete(t.tokens).where(t.tokens.c.id == error.token_id))


def _narrowed(granted: str, requested: str | None) -> str:
    if not requested:
        return granted
    wanted = set(requested.split())
    if not wanted <= set(granted.split()):
        raise OAuthError(400, {"error": "invalid_scope", "error_description": "Scope not granted."})
    return " ".join(s for s in granted.split() if s in wanted)


def _refreshable(client: Client, scope: str, settings: HostSettings, api: OAuthApi) -> bool:
    if "refresh_token" not in client.grant_types:
        return False
    # Badge Connect hands out refresh tokens for offline_access, Badgr for the grant; the
    # 3.0 API has no such scope, so registering the grant is enough there.
    if api.badgr(settings) or api.refresh_scope is None:
        return True
    return api.refresh_scope in scope.split()


def grant_code(
    connection: Connection,
    client: Client,
    form: Mapping[str, str],
    settings: HostSettings,
    api: OAuthApi = BADGE_CONNECT,
) -> IssuedToken:
    """Trade an authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.6).

    Raises:
        OAuthError: ``invalid_request`` without a code, ``invalid_grant`` for an unknown,
            expired, used or foreign code, a redirect URI or verifier that does not match.
    """
    code = form.get("code", "")
    if not code:
        raise OAuthError(400, {"error": "invalid_request", "error_description": "Missing code."})
    row = connection.execute(
        select(t.oauth_codes).where(t.oauth_codes.c.code_hash == _digest(code))
    ).one_or_none()
    if row is None or row.client_id != client.id:
        raise _invalid_grant("Unknown authorization code.")
    if row.used_at is not None:
        raise CodeReplayError(row.token_id)
    now = utcnow()
    if row.expires_at <= now:
        raise _invalid_grant("The authorization code has expired.")
    if form.get("redirect_uri", "") != row.redirect_uri:
        raise _invalid_grant("Mismatching redirect URI.")
    if not _pkce_matches(row, form.get("code_verifier")):
        raise _invalid_grant("The code verifier does not match the challenge.")
    scope = _narrowed(row.scope, form.get("scope"))
    # The conditional update decides which of concurrent redemptions wins; a loser waits
    # for the winner's commit (row or database lock), then sees the token to revoke.
    claimed = connection.execute(
        update(t.oauth_codes)
        .where(t.oauth_codes.c.id == row.id, t.oauth_codes.c.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise CodeReplayError(
            connection.scalar(select(t.oauth_codes.c.token_id).where(t.oauth_codes.c.id == row.id))
        )
    issued = issue_token(
        connection,
        row.user_id,
        settings.token_lifetime,
        scope=scope,
        client_id=client.id,
        refreshable=_refreshable(client, scope, settings, api),
    )
    connection.execute(
        update(t.oauth_codes).where(t.oauth_codes.c.id == row.id).values(token_id=issued.token_id)
    )
    return issued


def refresh(
    connection: Connection, client: Client, form: Mapping[str, str], settings: HostSettings
) -> IssuedToken:
    """Swap a client's refresh token for a new pair (RFC 6749 §6); the old pair dies.

    Raises:
        OAuthError: ``invalid_request`` without a token, ``unauthorized_client`` when the
            client did not register the grant, ``invalid_grant`` for an unknown token.
    """
    token = form.get("refresh_token", "")
    if not token:
        raise OAuthError(
            400, {"error": "invalid_request", "error_description": "Missing refresh_token."}
        )
    if "refresh_token" not in client.grant_types:
        raise OAuthError(400, {"error": "unauthorized_client"})
    issued = rotate_refresh_token(
        connection,
        token,
        settings.token_lifetime,
        client_id=client.id,
        scope=form.get("scope") or None,
    )
    if issued is None:
        raise _invalid_grant("Unknown refresh token.")
    return issued


def purge_codes(connection: Connection) -> None:
    """Forget codes that expired a while ago (they can no longer be replayed usefully)."""
    cutoff = utcnow() - timedelta(hours=1)
    connection.execute(delete(t.oauth_codes).where(t.oauth_codes.c.expires_at < cutoff))
