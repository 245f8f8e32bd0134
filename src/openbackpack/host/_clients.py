"""OAuth 2 clients of the host: client authentication, codes, tokens.

Badge Connect and the Open Badges 3.0 API run the same rules (their differences are data,
:class:`~openbackpack.host._apis.OAuthApi`); a client belongs to the API it registered with
(registration: :mod:`openbackpack.host._registration`). A loopback redirect URI matches
whatever its port (RFC 8252 §7.3). Codes are single use, short-lived, bound to client,
redirect URI and PKCE challenge; a replayed code revokes the token it was traded for (RFC 6749
§4.1.2). Secrets and codes are stored as SHA-256 digests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
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
    "digest",
    "find_client",
    "grant_code",
    "invalid_client",
    "issue_code",
    "offered_scopes",
    "purge_codes",
    "redirect_allowed",
    "refresh",
    "revoke_replayed",
]

SCOPES: Final = BADGE_CONNECT.scopes
"""What the host offers in the specification's mode."""
BADGR_SCOPES: Final = BADGE_CONNECT.badgr_scopes
"""What Badgr offers: no ``profile.update``, no ``offline_access``."""

_BASIC: Final = "client_secret_basic"
_POST: Final = "client_secret_post"


def digest(value: str) -> str:
    """The SHA-256 hex digest under which a client secret or a code is stored."""
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
    presented = digest(credentials.secret)
    expected = row.secret_hash if row is not None else digest(secrets.token_hex(16))
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
            code_hash=digest(code),
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
        select(t.oauth_codes).where(t.oauth_codes.c.code_hash == digest(code))
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
