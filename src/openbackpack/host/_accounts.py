"""Accounts of the host: users with e-mails, argon2 passwords, hashed OAuth tokens.

Nothing usable as a credential is stored: passwords are argon2 hashes and tokens are kept as
their sha256 digest, so a copy of the database cannot log anyone in.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from openbackpack._exceptions import DuplicateRecordError, InvalidInputError
from openbackpack.host import _schema as t
from openbackpack.host._db import insert_id
from openbackpack.host._wire import new_entity_id
from openbackpack.store._types import utcnow

__all__ = [
    "SCOPE",
    "HostUser",
    "IssuedToken",
    "TokenUse",
    "add_email",
    "add_user",
    "check_password",
    "clear_failures",
    "issue_token",
    "load_user",
    "lock_key",
    "locked_for",
    "normalise_email",
    "record_failure",
    "revoke_client_token",
    "rotate_refresh_token",
    "token_use",
    "user_for_token",
]

SCOPE: Final = "rw:profile rw:issuer rw:backpack"
"""The scope every password-grant token gets (Badgr's public client forces it)."""

# OWASP's minimum argon2id profile: a login costs milliseconds, not a fraction of a second,
# which keeps a test suite that logs in hundreds of times fast while staying a real KDF.
_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_TOKEN_ALPHABET: Final = string.ascii_letters + string.digits
# Verifying against this keeps the time of "no such user" close to "wrong password".
_DUMMY_HASH: Final = _HASHER.hash("openbackpack-timing-equaliser")


@dataclass(frozen=True, slots=True)
class HostUser:
    """A user of the host, with their e-mails (all, and the verified ones)."""

    id: int
    entity_id: str
    first_name: str
    last_name: str
    emails: tuple[str, ...]
    verified_emails: tuple[str, ...]

    @property
    def primary_email(self) -> str:
        """The first verified e-mail, else the first e-mail."""
        return (self.verified_emails or self.emails)[0]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token pair just issued; the only moment the plain values exist.

    ``refresh_token`` is None when the client may not refresh (a Badge Connect client that
    did not register the refresh grant, or was not granted ``offline_access``).
    """

    access_token: str
    refresh_token: str | None
    expires_in: int
    scope: str
    token_id: int = 0

    def __repr__(self) -> str:
        # Credentials never show in a log line or a traceback.
        return f"IssuedToken(expires_in={self.expires_in}, scope={self.scope!r})"


@dataclass(frozen=True, slots=True)
class TokenUse:
    """Who an access token speaks for, with which scopes, through which client."""

    user: HostUser
    scopes: frozenset[str]
    client_id: int | None


def normalise_email(email: str) -> str:
    """Check an e-mail address's syntax and return it lower-cased (as Badgr stores it)."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInputError(f"{email!r} is not an e-mail address: {exc}") from None
    return checked.normalized.lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _token() -> str:
    # Badgr (oauthlib) hands out 30 alphanumerics.
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(30))


def add_user(
    connection: Connection,
    email: str,
    password: str,
    *,
    verified: bool = True,
    first_name: str = "",
    last_name: str = "",
) -> HostUser:
    """Create a user whose login (and first e-mail) is ``email``.

    Raises:
        InvalidInputError: the e-mail is malformed or the password is empty.
        DuplicateRecordError: the e-mail already belongs to a user.
    """
    address = normalise_email(email)
    if not password:
        raise InvalidInputError("the password must not be empty")
    user_id = insert_id(
        connection,
        insert(t.users).values(
            entity_id=new_entity_id(),
            first_name=first_name,
            last_name=last_name,
            password_hash=_HASHER.hash(password),
            created_at=utcnow(),
        ),
    )
    add_email(connection, user_id, address, verified=verified, primary=True)
    user = load_user(connection, user_id)
    assert user is not None
    return user


def add_email(
    connection: Connection, user_id: int, email: str, *, verified: bool, primary: bool = False
) -> None:
    """Give a user one more e-mail address.

    Raises:
        DuplicateRecordError: the address already belongs to a user.
    """
    address = normalise_email(email)
    taken = connection.scalar(select(t.emails.c.id).where(t.emails.c.email == address))
    if taken is not None:
        raise DuplicateRecordError("user", "email", address)
    try:
        with connection.begin_nested():
            connection.execute(
                insert(t.emails).values(
                    user_id=user_id, email=address, verified=verified, is_primary=primary
                )
            )
    except IntegrityError:  # pragma: no cover - a concurrent insert won the race
        raise DuplicateRecordError("user", "email", address) from None


def load_user(connection: Connection, user_id: int) -> HostUser | None:
    """Return the user with that id, or ``None``."""
    row = connection.execute(select(t.users).where(t.users.c.id == user_id)).one_or_none()
    if row is None:
        return None
    addresses = connection.execute(
        select(t.emails.c.email, t.emails.c.verified)
        .where(t.emails.c.user_id == user_id)
        .order_by(t.emails.c.is_primary.desc(), t.emails.c.id)
    ).all()
    return _host_user(row.id, row, addresses)


def _host_user(user_id: int, row: Any, addresses: Sequence[Any]) -> HostUser:
    """A user from a row with their names and their e-mail rows, primary first."""
    return HostUser(
        id=user_id,
        entity_id=row.entity_id,
        first_name=row.first_name,
        last_name=row.last_name,
        emails=tuple(a.email for a in addresses),
        verified_emails=tuple(a.email for a in addresses if a.verified),
    )


def check_password(connection: Connection, username: str, password: str) -> HostUser | None:
    """Return the user whose e-mail is ``username`` if ``password`` is theirs, else ``None``."""
    row = connection.execute(
        select(t.users.c.id, t.users.c.password_hash)
        .join(t.emails, t.emails.c.user_id == t.users.c.id)
        .where(t.emails.c.email == username.strip().lower())
    ).one_or_none()
    try:
        if row is None:
            _HASHER.verify(_DUMMY_HASH, password + "x")
            return None
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return load_user(connection, row.id)


def issue_token(
    connection: Connection,
    user_id: int,
    lifetime: int,
    *,
    scope: str = SCOPE,
    client_id: int | None = None,
    refreshable: bool = True,
) -> IssuedToken:
    """Issue an access token living ``lifetime`` seconds and a refresh token.

    ``client_id`` is the row id of a Badge Connect client (None: Badgr's public client);
    without ``refreshable`` the refresh token is stored but never handed out, so it is
    useless.
    """
    access, refresh, now = _token(), _token(), utcnow()
    token_id = insert_id(
        connection,
        insert(t.tokens).values(
            user_id=user_id,
            access_hash=_digest(access),
            refresh_hash=_digest(refresh),
            scope=scope,
            expires_at=now + timedelta(seconds=lifetime),
            created_at=now,
            client_id=client_id,
            refreshable=refreshable,
        ),
    )
    return IssuedToken(access, refresh if refreshable else None, lifetime, scope, token_id)


def rotate_refresh_token(
    connection: Connection,
    refresh_token: str,
    lifetime: int,
    *,
    client_id: int | None = None,
    scope: str | None = None,
) -> IssuedToken | None:
    """Swap a refresh token for a new pair; the old pair stops working. ``None`` if unknown.

    Only a token issued to ``client_id`` (None: the public client) can be swapped, and only
    one that was handed out. ``scope`` narrows the new token's scope; it must be a subset.
    """
    owner = (
        t.tokens.c.client_id.is_(None) if client_id is None else t.tokens.c.client_id == client_id
    )
    row = connection.execute(
        select(t.tokens.c.id, t.tokens.c.user_id, t.tokens.c.scope).where(
            t.tokens.c.refresh_hash == _digest(refresh_token),
            t.tokens.c.refreshable.is_(True),
            owner,
        )
    ).one_or_none()
    if row is None:
        return None
    granted = set(row.scope.split())
    wanted = set(scope.split()) if scope else granted
    if not wanted <= granted:
        return None
    # The delete decides: of concurrent redemptions only one removes the row. The hash is
    # matched again because SQLite may have handed this row id to a newer token meanwhile.
    deleted = connection.execute(
        delete(t.tokens).where(
            t.tokens.c.id == row.id, t.tokens.c.refresh_hash == _digest(refresh_token)
        )
    )
    if deleted.rowcount != 1:
        return None
    narrowed = " ".join(s for s in row.scope.split() if s in wanted)
    return issue_token(connection, row.user_id, lifetime, scope=narrowed, client_id=client_id)


# One statement for the token, its user and the user's e-mails, built once with a bound
# parameter: this runs before every authenticated request, and three round trips through
# SQLAlchemy, or building the statement anew, cost more than the database's work.
_TOKEN_USE: Final = (
    select(
        t.tokens.c.id,
        t.tokens.c.user_id,
        t.tokens.c.expires_at,
        t.tokens.c.scope,
        t.tokens.c.client_id,
        t.users.c.entity_id,
        t.users.c.first_name,
        t.users.c.last_name,
        t.emails.c.email,
        t.emails.c.verified,
    )
    .join(t.users, t.users.c.id == t.tokens.c.user_id)
    .outerjoin(t.emails, t.emails.c.user_id == t.users.c.id)
    .where(t.tokens.c.access_hash == bindparam("access_hash"))
    .order_by(t.emails.c.is_primary.desc(), t.emails.c.id)
)


def token_use(connection: Connection, access_token: str, lifetime: int) -> TokenUse | None:
    """Return who an unexpired access token belongs to, its scopes and client, or ``None``.

    As Badgr does, a password-grant token used in the second half of its life is extended to
    a full ``lifetime`` from now (sliding expiry), so a client in steady use keeps its token.
    Badge Connect tokens expire when they said they would (their clients refresh).
    """
    rows = connection.execute(_TOKEN_USE, {"access_hash": _digest(access_token)}).all()
    now = utcnow()
    if not rows or rows[0].expires_at <= now:
        return None
    row = rows[0]
    if row.client_id is None and (row.expires_at - now).total_seconds() < lifetime / 2:
        connection.execute(
            update(t.tokens)
            .where(t.tokens.c.id == row.id)
            .values(expires_at=now + timedelta(seconds=lifetime))
        )
    user = _host_user(row.user_id, row, [r for r in rows if r.email is not None])
    return TokenUse(user, frozenset(row.scope.split()), row.client_id)


def user_for_token(connection: Connection, access_token: str, lifetime: int) -> HostUser | None:
    """Return the user a Badgr (password-grant) access token belongs to, or ``None``.

    Tokens of Badge Connect clients are refused here: they carry Badge Connect scopes only,
    and must not reach the whole v2 API.
    """
    use = token_use(connection, access_token, lifetime)
    if use is None or use.client_id is not None:
        return None
    return use.user


def revoke_client_token(connection: Connection, client_id: int, token: str) -> bool:
    """Revoke the token pair of a Badge Connect client that ``token`` is either half of.

    RFC 7009: revoking a refresh token also revokes its access token; revoking an access
    token here revokes its refresh token too (they live and die together).
    """
    digest = _digest(token)
    result = connection.execute(
        delete(t.tokens).where(
            t.tokens.c.client_id == client_id,
            (t.tokens.c.access_hash == digest) | (t.tokens.c.refresh_hash == digest),
        )
    )
    return result.rowcount > 0


def lock_key(connection: Connection, key: str) -> None:
    """Hold a login key for the rest of the transaction, so its attempts run one at a time.

    The first statement writes: SQLite takes its write lock there (a read first would
    leave a stale snapshot), PostgreSQL a row lock that concurrent attempts wait on.
    """
    dialect = connection.dialect.name
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    connection.execute(
        upsert(t.login_failures)
        .values(key=key, failures=0, locked_until=utcnow() - timedelta(seconds=1))
        .on_conflict_do_nothing(index_elements=["key"])
    )
    connection.execute(
        select(t.login_failures.c.key).where(t.login_failures.c.key == key).with_for_update()
    )


def locked_for(connection: Connection, key: str, now: datetime | None = None) -> int:
    """Seconds a login key (username or client address) must still wait; 0 when free."""
    locked_until = connection.scalar(
        select(t.login_failures.c.locked_until).where(t.login_failures.c.key == key)
    )
    if locked_until is None:
        return 0
    remaining: float = (locked_until - (now or utcnow())).total_seconds()
    return max(0, math.ceil(remaining))


def record_failure(connection: Connection, key: str, cap: int) -> int:
    """Count one more failed login; lock the key for ``2**min(n, 12)`` s, at most ``cap``."""
    failures: int | None = connection.scalar(
        select(t.login_failures.c.failures).where(t.login_failures.c.key == key)
    )
    count = (failures or 0) + 1
    wait: int = min(cap, 2 ** min(count, 12))
    until = utcnow() + timedelta(seconds=wait)
    if failures is None:
        connection.execute(
            insert(t.login_failures).values(key=key, failures=count, locked_until=until)
        )
    else:
        connection.execute(
            update(t.login_failures)
            .where(t.login_failures.c.key == key)
            .values(failures=count, locked_until=until)
        )
    return wait


def clear_failures(connection: Connection, key: str) -> None:
    """Forget a key's failed logins (a success resets Badgr's counter)."""
    connection.execute(delete(t.login_failures).where(t.login_failures.c.key == key))
