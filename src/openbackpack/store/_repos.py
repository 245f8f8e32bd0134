"""Repository functions over the store's tables, one class per table.

Each repository works on the connection of the :class:`~openbackpack.store.Transaction` it belongs
to, so every call made inside one ``with store.transaction()`` block commits or rolls back as one.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    CursorResult,
    Row,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from openbackpack._exceptions import (
    DuplicateRecordError,
    InvalidDirectionError,
    InvalidInputError,
    PrimaryBackpackError,
    RecordNotFoundError,
)
from openbackpack.models import ApiVersion
from openbackpack.models.badgeconnect import ManifestEntry
from openbackpack.store import _schema as t
from openbackpack.store._crypto import Secret, SecretBox, hash_secret, new_verification_code
from openbackpack.store._records import (
    SITE_OWNER,
    BackpackAccount,
    BadgeConnectManifest,
    CachedToken,
    ExternalIdentifier,
    IdentifierKind,
    OAuthClient,
    OAuthToken,
    PendingAuthorization,
    PendingLogin,
    PendingVerification,
    Provider,
    SelectedCollection,
    SiteSettings,
)
from openbackpack.store._types import utcnow
from openbackpack.store._validate import check_email, check_owner, normalise_url

__all__ = [
    "Accounts",
    "BadgeCache",
    "Collections",
    "Identifiers",
    "Manifests",
    "OAuthClients",
    "OAuthStates",
    "OAuthTokens",
    "Providers",
    "Settings",
    "TokenCache",
    "Verifications",
]

Direction = Literal["up", "down", -1, 1]


class _Repository:
    def __init__(self, conn: Connection, box: SecretBox) -> None:
        self._conn = conn
        self._box = box


class Providers(_Repository):
    """Site backpacks (providers): the backpack hosts the site talks to."""

    def create(self, api_url: str, web_url: str, api_version: object) -> Provider:
        """Add a provider at the end of the order (it becomes primary if it is the first).

        Raises:
            InvalidUrlError: a URL is not http(s).
            InvalidApiVersionError: the version is not 1, 2, 2.1 or 3.0.
            DuplicateRecordError: another provider has that API or web URL.
        """
        values = self._checked(api_url, web_url, api_version, exclude_id=None)
        now = utcnow()
        next_order = self._conn.scalar(select(func.coalesce(func.max(t.providers.c.sort_order), 0)))
        new_id = self._insert(
            insert(t.providers).values(
                **values, sort_order=int(next_order or 0) + 1, created_at=now, modified_at=now
            )
        )
        return self.get(new_id)

    def get(self, provider_id: int) -> Provider:
        """Return one provider. Raises :class:`RecordNotFoundError` if there is none."""
        row = self._conn.execute(select(t.providers).where(t.providers.c.id == provider_id)).first()
        if row is None:
            raise RecordNotFoundError("site backpack", provider_id)
        return _provider(row)

    def find_by_api_url(self, api_url: str) -> Provider | None:
        """Return the provider with that API URL (compared after normalisation), if any."""
        url = normalise_url("api_url", api_url)
        row = self._conn.execute(select(t.providers).where(t.providers.c.api_url == url)).first()
        return None if row is None else _provider(row)

    def list(self) -> list[Provider]:
        """Return every provider, primary first."""
        rows = self._conn.execute(
            select(t.providers).order_by(t.providers.c.sort_order, t.providers.c.id)
        )
        return [_provider(row) for row in rows]

    def primary(self) -> Provider | None:
        """Return the primary provider (the lowest sort order), or None if there is none."""
        providers = self.list()
        return providers[0] if providers else None

    def update(
        self,
        provider_id: int,
        *,
        api_url: str | None = None,
        web_url: str | None = None,
        api_version: object = None,
    ) -> Provider:
        """Change a provider's URLs or version; arguments left as None keep their value.

        Remote-id mappings are left alone here: deciding when they are stale is the
        caller's business (they are only stale when the API URL or the account changes).
        """
        current = self.get(provider_id)
        values = self._checked(
            api_url if api_url is not None else current.api_url,
            web_url if web_url is not None else current.web_url,
            api_version if api_version is not None else current.api_version,
            exclude_id=provider_id,
        )
        self._conn.execute(
            update(t.providers)
            .where(t.providers.c.id == provider_id)
            .values(**values, modified_at=utcnow())
        )
        return self.get(provider_id)

    def set_rate_limit(
        self, provider_id: int, rate_limit: float | None, burst: int | None
    ) -> Provider:
        """Set (or with None, clear) the host's shared limit: requests per second and burst.

        Raises:
            InvalidInputError: the rate is not above 0, or the burst is below 1.
            RecordNotFoundError: there is no such provider.
        """
        if rate_limit is not None and not rate_limit > 0:
            raise InvalidInputError("the rate limit must be greater than 0 requests per second")
        if burst is not None and burst < 1:
            raise InvalidInputError("the burst must be at least 1 request")
        self.get(provider_id)
        self._conn.execute(
            update(t.providers)
            .where(t.providers.c.id == provider_id)
            .values(rate_limit=rate_limit, burst=burst, modified_at=utcnow())
        )
        return self.get(provider_id)

    def delete(self, provider_id: int) -> None:
        """Delete a provider and everything that belongs to it.

        Its accounts (site and users'), their selected collections and tokens, its remote-id
        mappings, its OAuth client and pending verifications all go with it.

        Raises:
            PrimaryBackpackError: it is the primary provider.
            RecordNotFoundError: there is no such provider.
        """
        provider = self.get(provider_id)
        primary = self.primary()
        if primary is not None and primary.id == provider.id:
            raise PrimaryBackpackError(
                f"site backpack {provider.id} ({provider.web_url}) is the primary one and "
                "cannot be deleted; make another backpack primary first"
            )
        # Explicit deletes, children first, so nothing is orphaned even on a database whose
        # foreign keys do not cascade.
        account_ids = select(t.accounts.c.id).where(t.accounts.c.provider_id == provider_id)
        for table in (t.selected_collections, t.oauth_tokens, t.token_cache, t.badge_cache):
            self._conn.execute(delete(table).where(table.c.account_id.in_(account_ids)))
        for table in (
            t.accounts,
            t.external_identifiers,
            t.pending_verifications,
            t.oauth_clients,
            t.oauth_states,
            t.badgeconnect_manifests,
        ):
            self._conn.execute(delete(table).where(table.c.provider_id == provider_id))
        self._conn.execute(delete(t.providers).where(t.providers.c.id == provider_id))

    def move(self, provider_id: int, direction: Direction | int | str) -> Provider:
        """Swap a provider with its neighbour: ``"up"``/``-1`` towards primary, or down.

        Moving the first provider up or the last one down changes nothing.

        Raises:
            InvalidDirectionError: the direction is neither up nor down.
        """
        step = _direction_step(direction)
        ordered = self.list()
        index = next((i for i, p in enumerate(ordered) if p.id == provider_id), None)
        if index is None:
            raise RecordNotFoundError("site backpack", provider_id)
        other = index + step
        if not 0 <= other < len(ordered):
            return ordered[index]
        mine, theirs = ordered[index], ordered[other]
        # Orders can have gaps after deletes; swap the neighbours' actual values. When they
        # are equal (hand-edited data), fall back to positions so the swap still happens.
        new_mine, new_theirs = theirs.sort_order, mine.sort_order
        if new_mine == new_theirs:
            new_mine, new_theirs = other + 1, index + 1
        self._set_order(mine.id, new_mine)
        self._set_order(theirs.id, new_theirs)
        return self.get(provider_id)

    def _set_order(self, provider_id: int, order: int) -> None:
        self._conn.execute(
            update(t.providers).where(t.providers.c.id == provider_id).values(sort_order=order)
        )

    def _checked(
        self, api_url: str, web_url: str, api_version: object, *, exclude_id: int | None
    ) -> dict[str, str]:
        values = {
            "api_url": normalise_url("api_url", api_url),
            "web_url": normalise_url("web_url", web_url),
            "api_version": ApiVersion.parse(api_version).value,
        }
        for column in ("api_url", "web_url"):
            query = select(t.providers.c.id).where(t.providers.c[column] == values[column])
            if exclude_id is not None:
                query = query.where(t.providers.c.id != exclude_id)
            if self._conn.scalar(query) is not None:
                raise DuplicateRecordError("site backpack", column, values[column])
        return values

    def _insert(self, statement: Any) -> int:
        try:
            result = self._conn.execute(statement)
        except IntegrityError as exc:
            raise DuplicateRecordError("site backpack", "URL", str(exc.params)) from None
        return _new_id(result)


class Accounts(_Repository):
    """Backpack accounts: one account on one provider, owned by a user or the site."""

    def create(
        self,
        provider_id: int,
        owner: str,
        email: str,
        password: str | Secret | None = None,
        *,
        remote_user_id: str | None = None,
    ) -> BackpackAccount:
        """Add an account. Raises :class:`DuplicateRecordError` if the owner has one there."""
        Providers(self._conn, self._box).get(provider_id)
        owner = check_owner(owner)
        if self.find(owner, provider_id) is not None:
            raise DuplicateRecordError("backpack account", "owner", f"{owner} on {provider_id}")
        now = utcnow()
        result = self._conn.execute(
            insert(t.accounts).values(
                provider_id=provider_id,
                owner=owner,
                email=check_email(email),
                password=self._box.seal_optional(password),
                remote_user_id=remote_user_id,
                created_at=now,
                modified_at=now,
            )
        )
        return self.get(_new_id(result))

    def save_credentials(
        self,
        provider_id: int,
        owner: str,
        email: str | None,
        password: str | Secret | None,
    ) -> BackpackAccount | None:
        """Create or update an owner's credentials, only when both email and password are given.

        An empty password counts as given (a v1 account has none). Returns the account, or
        None when either value was missing and nothing was stored.
        """
        if email is None or password is None:
            return None
        existing = self.find(owner, provider_id)
        if existing is None:
            return self.create(provider_id, owner, email, password)
        return self.update(existing.id, email=email, password=password)

    def get(self, account_id: int) -> BackpackAccount:
        """Return one account. Raises :class:`RecordNotFoundError` if there is none."""
        row = self._conn.execute(select(t.accounts).where(t.accounts.c.id == account_id)).first()
        if row is None:
            raise RecordNotFoundError("backpack account", account_id)
        return self._account(row)

    def find(self, owner: str, provider_id: int) -> BackpackAccount | None:
        """Return the owner's account on that provider, if any."""
        row = self._conn.execute(
            select(t.accounts).where(
                t.accounts.c.owner == owner, t.accounts.c.provider_id == provider_id
            )
        ).first()
        return None if row is None else self._account(row)

    def site_account(self, provider_id: int) -> BackpackAccount | None:
        """Return the provider's site (issuer) account, if it has one."""
        return self.find(SITE_OWNER, provider_id)

    def list(
        self, *, owner: str | None = None, provider_id: int | None = None
    ) -> list[BackpackAccount]:
        """Return accounts, optionally only one owner's or one provider's, oldest first."""
        query = select(t.accounts).order_by(t.accounts.c.id)
        if owner is not None:
            query = query.where(t.accounts.c.owner == owner)
        if provider_id is not None:
            query = query.where(t.accounts.c.provider_id == provider_id)
        return [self._account(row) for row in self._conn.execute(query)]

    def update(
        self,
        account_id: int,
        *,
        email: str | None = None,
        password: str | Secret | None = None,
        remote_user_id: str | None = None,
    ) -> BackpackAccount:
        """Change an account's email, password or remote user id (None keeps the value)."""
        self.get(account_id)
        values: dict[str, object] = {"modified_at": utcnow()}
        if email is not None:
            values["email"] = check_email(email)
        if password is not None:
            values["password"] = self._box.seal_optional(password)
        if remote_user_id is not None:
            values["remote_user_id"] = remote_user_id
        self._conn.execute(update(t.accounts).where(t.accounts.c.id == account_id).values(values))
        return self.get(account_id)

    def delete(self, account_id: int) -> None:
        """Delete an account with its selected collections and tokens."""
        self.get(account_id)
        for table in (t.selected_collections, t.oauth_tokens, t.token_cache, t.badge_cache):
            self._conn.execute(delete(table).where(table.c.account_id == account_id))
        self._conn.execute(delete(t.accounts).where(t.accounts.c.id == account_id))

    def _account(self, row: Row[Any]) -> BackpackAccount:
        return BackpackAccount(
            id=row.id,
            provider_id=row.provider_id,
            owner=row.owner,
            email=row.email,
            password=self._box.open_optional(row.password),
            remote_user_id=row.remote_user_id,
            created_at=row.created_at,
            modified_at=row.modified_at,
        )


class Collections(_Repository):
    """The collections an account has chosen to display."""

    def replace(self, account_id: int, keys: Iterable[int | str]) -> list[SelectedCollection]:
        """Replace an account's selection: v1 group ids (integers) or v2 entity ids (strings).

        Duplicates are stored once. Raises :class:`InvalidInputError` for a key of the wrong
        kind for the account's provider.
        """
        account = Accounts(self._conn, self._box).get(account_id)
        version = Providers(self._conn, self._box).get(account.provider_id).api_version
        rows = [_collection_row(account_id, key, version) for key in dict.fromkeys(keys)]
        self.clear(account_id)
        # What was cached came from the old selection.
        self._conn.execute(delete(t.badge_cache).where(t.badge_cache.c.account_id == account_id))
        if rows:
            self._conn.execute(insert(t.selected_collections), rows)
        return self.list(account_id)

    def list(self, account_id: int) -> list[SelectedCollection]:
        """Return an account's selected collections in the order they were chosen."""
        rows = self._conn.execute(
            select(t.selected_collections)
            .where(t.selected_collections.c.account_id == account_id)
            .order_by(t.selected_collections.c.id)
        )
        return [SelectedCollection(row.account_id, row.group_id, row.entity_id) for row in rows]

    def clear(self, account_id: int) -> None:
        """Remove an account's whole selection."""
        self._conn.execute(
            delete(t.selected_collections).where(t.selected_collections.c.account_id == account_id)
        )


class Identifiers(_Repository):
    """Ids that providers gave to our issuers, badge classes and awards."""

    def get(self, provider_id: int, kind: IdentifierKind, internal_key: str) -> str | None:
        """Return the remote id stored for one of our objects, or None."""
        return self._conn.scalar(
            select(t.external_identifiers.c.external_id).where(
                t.external_identifiers.c.provider_id == provider_id,
                t.external_identifiers.c.kind == IdentifierKind(kind).value,
                t.external_identifiers.c.internal_key == internal_key,
            )
        )

    def get_many(
        self, provider_id: int, kind: IdentifierKind, internal_keys: Iterable[str]
    ) -> dict[str, str]:
        """Return the remote ids stored for several of our objects (key to remote id)."""
        wanted = list(internal_keys)
        found: dict[str, str] = {}
        column = t.external_identifiers.c
        for start in range(0, len(wanted), 500):
            rows = self._conn.execute(
                select(column.internal_key, column.external_id).where(
                    column.provider_id == provider_id,
                    column.kind == IdentifierKind(kind).value,
                    column.internal_key.in_(wanted[start : start + 500]),
                )
            )
            found.update({row.internal_key: row.external_id for row in rows})
        return found

    def create(
        self, provider_id: int, kind: IdentifierKind, internal_key: str, external_id: str
    ) -> ExternalIdentifier:
        """Record a remote id. Raises :class:`DuplicateRecordError` if one is already mapped."""
        Providers(self._conn, self._box).get(provider_id)
        kind = IdentifierKind(kind)
        if self.get(provider_id, kind, internal_key) is not None:
            raise DuplicateRecordError(f"{kind.value} identifier", "internal key", internal_key)
        if not internal_key or not external_id:
            raise InvalidInputError("internal and external ids must be non-empty")
        now = utcnow()
        self._conn.execute(
            insert(t.external_identifiers).values(
                provider_id=provider_id,
                kind=kind.value,
                internal_key=internal_key,
                external_id=external_id,
                created_at=now,
            )
        )
        return ExternalIdentifier(provider_id, kind, internal_key, external_id, now)

    def list(self, provider_id: int) -> list[ExternalIdentifier]:
        """Return every mapping of one provider."""
        rows = self._conn.execute(
            select(t.external_identifiers)
            .where(t.external_identifiers.c.provider_id == provider_id)
            .order_by(t.external_identifiers.c.id)
        )
        return [
            ExternalIdentifier(
                row.provider_id,
                IdentifierKind(row.kind),
                row.internal_key,
                row.external_id,
                row.created_at,
            )
            for row in rows
        ]

    def delete(self, provider_id: int, kind: IdentifierKind, internal_key: str) -> bool:
        """Forget one mapping; returns whether there was one."""
        result = self._conn.execute(
            delete(t.external_identifiers).where(
                t.external_identifiers.c.provider_id == provider_id,
                t.external_identifiers.c.kind == IdentifierKind(kind).value,
                t.external_identifiers.c.internal_key == internal_key,
            )
        )
        return result.rowcount > 0

    def delete_prefix(self, provider_id: int, prefix: str) -> int:
        """Forget every mapping of one provider whose internal key starts with ``prefix``."""
        if not prefix:
            raise InvalidInputError("a key prefix must be non-empty")
        result = self._conn.execute(
            delete(t.external_identifiers).where(
                t.external_identifiers.c.provider_id == provider_id,
                t.external_identifiers.c.internal_key.startswith(prefix, autoescape=True),
            )
        )
        return result.rowcount

    def delete_all(self, provider_id: int) -> int:
        """Forget every mapping of one provider; returns how many there were."""
        result = self._conn.execute(
            delete(t.external_identifiers).where(
                t.external_identifiers.c.provider_id == provider_id
            )
        )
        return result.rowcount


class OAuthClients(_Repository):
    """The OAuth 2 clients registered with each provider; the newest is the current one.

    Earlier clients are kept: the tokens of accounts connected through them can only be
    refreshed (and revoked) with them.
    """

    def save(
        self,
        provider_id: int,
        client_id: str,
        client_secret: str | Secret | None,
        *,
        token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 - a method name
        scope: str = "",
        registration: str | None = None,
    ) -> OAuthClient:
        """Store a client as the provider's current one; the secret is sealed.

        A client id the current client already has updates it (a new secret, say); any other
        id is a new client, and the earlier ones stay for the accounts that use them.
        """
        Providers(self._conn, self._box).get(provider_id)
        now = utcnow()
        values = {
            "client_id": client_id,
            "client_secret": self._box.seal_optional(client_secret),
            "token_endpoint_auth_method": token_endpoint_auth_method,
            "scope": scope,
            "registration": registration,
            "modified_at": now,
        }
        current = self.get(provider_id)
        if current is not None and current.client_id == client_id:
            self._conn.execute(
                update(t.oauth_clients).where(t.oauth_clients.c.id == current.id).values(values)
            )
            row_id = current.id
        else:
            result = self._conn.execute(
                insert(t.oauth_clients).values(provider_id=provider_id, created_at=now, **values)
            )
            row_id = _new_id(result)
        client = self.by_id(row_id)
        assert client is not None
        return client

    def get(self, provider_id: int) -> OAuthClient | None:
        """Return the provider's current (newest) client, if any."""
        row = self._conn.execute(
            select(t.oauth_clients)
            .where(t.oauth_clients.c.provider_id == provider_id)
            .order_by(t.oauth_clients.c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else self._client(row)

    def by_id(self, oauth_client_id: int) -> OAuthClient | None:
        """Return one stored client by its row id, current or earlier."""
        row = self._conn.execute(
            select(t.oauth_clients).where(t.oauth_clients.c.id == oauth_client_id)
        ).first()
        return None if row is None else self._client(row)

    def every(self, provider_id: int) -> list[OAuthClient]:
        """Every client stored for the provider, oldest first."""
        rows = self._conn.execute(
            select(t.oauth_clients)
            .where(t.oauth_clients.c.provider_id == provider_id)
            .order_by(t.oauth_clients.c.id)
        )
        return [self._client(row) for row in rows]

    def _client(self, row: Row[Any]) -> OAuthClient:
        return OAuthClient(
            id=row.id,
            provider_id=row.provider_id,
            client_id=row.client_id,
            client_secret=self._box.open_optional(row.client_secret),
            token_endpoint_auth_method=row.token_endpoint_auth_method,
            scope=row.scope,
            registration=row.registration,
            created_at=row.created_at,
            modified_at=row.modified_at,
        )

    def delete(self, provider_id: int) -> bool:
        """Forget every client of the provider; returns whether there was one."""
        result = self._conn.execute(
            delete(t.oauth_clients).where(t.oauth_clients.c.provider_id == provider_id)
        )
        return result.rowcount > 0


@functools.cache
def _token_of(table: Table) -> Select[Any]:
    # Read before every request an account makes: built once per table, not per call.
    return select(table).where(table.c.account_id == bindparam("account_id"))


class _AccountTokens(_Repository):
    _table = t.token_cache

    def _upsert(self, account_id: int, values: dict[str, object]) -> None:
        account = Accounts(self._conn, self._box).get(account_id)
        table = self._table
        exists = self._conn.scalar(
            select(table.c.account_id).where(table.c.account_id == account_id)
        )
        if exists is None:
            self._conn.execute(
                insert(table).values(
                    account_id=account_id, provider_id=account.provider_id, **values
                )
            )
        else:
            self._conn.execute(update(table).where(table.c.account_id == account_id).values(values))

    def _row(self, account_id: int) -> Row[Any] | None:
        return self._conn.execute(_token_of(self._table), {"account_id": account_id}).first()

    def delete(self, account_id: int) -> bool:
        """Forget the account's token; returns whether there was one."""
        table = self._table
        return (
            self._conn.execute(delete(table).where(table.c.account_id == account_id)).rowcount > 0
        )

    def clear_provider(self, provider_id: int) -> int:
        """Forget the tokens of every account on one provider; returns how many."""
        table = self._table
        return self._conn.execute(delete(table).where(table.c.provider_id == provider_id)).rowcount


class OAuthTokens(_AccountTokens):
    """OAuth 2 tokens (Badge Connect) held per (provider, account), sealed."""

    _table = t.oauth_tokens

    def save(
        self,
        account_id: int,
        access_token: str | Secret,
        refresh_token: str | Secret | None,
        expires_at: datetime | None,
        scope: str = "",
        *,
        oauth_client_id: int | None = None,
    ) -> OAuthToken:
        """Store (or replace) the account's token.

        ``oauth_client_id`` is the client the token was issued to; left out, a replaced
        token keeps the client of the one before (a refresh stays with its client).
        """
        now = utcnow()
        existing = self.get(account_id)
        if oauth_client_id is None and existing is not None:
            oauth_client_id = existing.oauth_client_id
        self._upsert(
            account_id,
            {
                "access_token": self._box.seal_optional(access_token),
                "refresh_token": self._box.seal_optional(refresh_token),
                "expires_at": expires_at,
                "scope": scope,
                "oauth_client_id": oauth_client_id,
                "created_at": existing.created_at if existing else now,
                "modified_at": now,
            },
        )
        token = self.get(account_id)
        assert token is not None
        return token

    def get(self, account_id: int) -> OAuthToken | None:
        """Return the account's token, if any."""
        row = self._row(account_id)
        if row is None:
            return None
        access = self._box.open_optional(row.access_token)
        assert access is not None
        return OAuthToken(
            account_id=row.account_id,
            provider_id=row.provider_id,
            access_token=access,
            refresh_token=self._box.open_optional(row.refresh_token),
            expires_at=row.expires_at,
            scope=row.scope,
            created_at=row.created_at,
            modified_at=row.modified_at,
            oauth_client_id=row.oauth_client_id,
        )


class TokenCache(_AccountTokens):
    """Badgr password-grant tokens cached per (provider, account), sealed."""

    _table = t.token_cache

    def save(
        self,
        account_id: int,
        access_token: str | Secret,
        refresh_token: str | Secret | None,
        expires_at: datetime,
    ) -> CachedToken:
        """Store (or replace) the account's cached token."""
        self._upsert(
            account_id,
            {
                "access_token": self._box.seal_optional(access_token),
                "refresh_token": self._box.seal_optional(refresh_token),
                "expires_at": expires_at,
                "modified_at": utcnow(),
            },
        )
        token = self.get(account_id)
        assert token is not None
        return token

    def get(self, account_id: int) -> CachedToken | None:
        """Return the account's cached token, if any (expired or not: check ``expires_at``)."""
        row = self._row(account_id)
        if row is None:
            return None
        access = self._box.open_optional(row.access_token)
        assert access is not None
        return CachedToken(
            account_id=row.account_id,
            provider_id=row.provider_id,
            access_token=access,
            refresh_token=self._box.open_optional(row.refresh_token),
            expires_at=row.expires_at,
            modified_at=row.modified_at,
        )


class OAuthStates(_Repository):
    """Pending Badge Connect authorizations: one per ``state``, single use, short-lived."""

    def create(
        self,
        provider_id: int,
        owner: str,
        state: str,
        code_verifier: str,
        redirect_uri: str,
        scope: str,
        *,
        email: str | None = None,
        ttl: timedelta = timedelta(minutes=10),
        oauth_client_id: int | None = None,
    ) -> PendingAuthorization:
        """Remember an authorization the user was just sent to; returns it.

        The ``state`` is stored only as a digest, the verifier sealed. Several may be pending
        at once, even for one user (Moodle kept one verifier per session, W12).
        ``oauth_client_id`` is the client the user is sent to authorize, which must then
        redeem the code.
        """
        owner = check_owner(owner)
        Providers(self._conn, self._box).get(provider_id)
        if not state or not code_verifier:
            raise InvalidInputError("a pending authorization needs a state and a verifier")
        now = utcnow()
        result = self._conn.execute(
            insert(t.oauth_states).values(
                provider_id=provider_id,
                owner=owner,
                state_hash=hash_secret(state),
                code_verifier=self._box.seal(code_verifier),
                redirect_uri=redirect_uri,
                scope=scope,
                email=check_email(email) if email else None,
                oauth_client_id=oauth_client_id,
                created_at=now,
                expires_at=now + ttl,
            )
        )
        return self._get(_new_id(result))

    def consume(self, state: str) -> PendingAuthorization | None:
        """Take the authorization of ``state`` out of the store (single use), expired or not.

        Returns None for a state that was never issued or was already used; the caller
        checks ``expires_at``.
        """
        row = self._conn.execute(
            select(t.oauth_states).where(t.oauth_states.c.state_hash == hash_secret(state))
        ).first()
        if row is None:
            return None
        deleted = self._conn.execute(delete(t.oauth_states).where(t.oauth_states.c.id == row.id))
        # Two callbacks racing with one state: only the one whose delete took the row wins.
        return self._pending(row) if deleted.rowcount else None

    def find(self, owner: str, provider_id: int | None = None) -> list[PendingAuthorization]:
        """Return an owner's pending authorizations, oldest first."""
        query = select(t.oauth_states).where(t.oauth_states.c.owner == owner)
        if provider_id is not None:
            query = query.where(t.oauth_states.c.provider_id == provider_id)
        rows = self._conn.execute(query.order_by(t.oauth_states.c.id))
        return [self._pending(row) for row in rows]

    def delete(self, pending_id: int) -> bool:
        """Forget one pending authorization; returns whether there was one."""
        result = self._conn.execute(delete(t.oauth_states).where(t.oauth_states.c.id == pending_id))
        return result.rowcount > 0

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete every expired pending authorization; returns how many."""
        moment = now or utcnow()
        result = self._conn.execute(
            delete(t.oauth_states).where(t.oauth_states.c.expires_at <= moment)
        )
        return result.rowcount

    def _get(self, pending_id: int) -> PendingAuthorization:
        row = self._conn.execute(
            select(t.oauth_states).where(t.oauth_states.c.id == pending_id)
        ).one()
        return self._pending(row)

    def _pending(self, row: Row[Any]) -> PendingAuthorization:
        return PendingAuthorization(
            id=row.id,
            provider_id=row.provider_id,
            owner=row.owner,
            code_verifier=Secret(self._box.open(row.code_verifier)),
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            email=row.email,
            created_at=row.created_at,
            expires_at=row.expires_at,
            oauth_client_id=row.oauth_client_id,
        )


class Manifests(_Repository):
    """Badge Connect manifests read by discovery, one per provider."""

    def save(
        self,
        provider_id: int,
        *,
        manifest_url: str,
        entry: ManifestEntry,
        document: str,
        etag: str | None,
        fresh_until: datetime,
        last_modified: str | None = None,
    ) -> BadgeConnectManifest:
        """Store (or replace) what a provider's manifest (or service description) says."""
        Providers(self._conn, self._box).get(provider_id)
        now = utcnow()
        values: dict[str, object] = {
            "manifest_url": manifest_url,
            "etag": etag,
            "last_modified": last_modified,
            "fetched_at": now,
            "fresh_until": fresh_until,
            "name": entry.name,
            "image": entry.image,
            "api_base": entry.api_base,
            "version": entry.version[:32],
            "authorization_url": entry.authorization_url,
            "token_url": entry.token_url,
            "registration_url": entry.registration_url,
            "revocation_url": entry.token_revocation_url,
            "scopes_offered": " ".join(entry.scopes_offered),
            "privacy_policy_url": entry.privacy_policy_url,
            "document": document,
        }
        self.delete(provider_id)
        self._conn.execute(
            insert(t.badgeconnect_manifests).values(provider_id=provider_id, **values)
        )
        found = self.get(provider_id)
        assert found is not None
        return found

    def refresh(
        self,
        provider_id: int,
        fresh_until: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> BadgeConnectManifest:
        """Mark a stored manifest as confirmed (a 304 answer) until ``fresh_until``."""
        values: dict[str, object] = {"fetched_at": utcnow(), "fresh_until": fresh_until}
        if etag:
            values["etag"] = etag
        if last_modified:
            values["last_modified"] = last_modified
        table = t.badgeconnect_manifests
        self._conn.execute(update(table).where(table.c.provider_id == provider_id).values(values))
        found = self.get(provider_id)
        if found is None:
            raise RecordNotFoundError("Badge Connect manifest", provider_id)
        return found

    def get(self, provider_id: int) -> BadgeConnectManifest | None:
        """Return the provider's stored manifest, fresh or not, if any."""
        table = t.badgeconnect_manifests
        row = self._conn.execute(select(table).where(table.c.provider_id == provider_id)).first()
        if row is None:
            return None
        return BadgeConnectManifest(
            provider_id=row.provider_id,
            manifest_url=row.manifest_url,
            etag=row.etag,
            fetched_at=row.fetched_at,
            fresh_until=row.fresh_until,
            name=row.name,
            image=row.image,
            api_base=row.api_base,
            version=row.version,
            authorization_url=row.authorization_url,
            token_url=row.token_url,
            registration_url=row.registration_url,
            revocation_url=row.revocation_url,
            scopes_offered=tuple(row.scopes_offered.split()),
            document=row.document,
            last_modified=row.last_modified,
            privacy_policy_url=row.privacy_policy_url,
        )

    def delete(self, provider_id: int) -> bool:
        """Forget the provider's manifest; returns whether there was one."""
        table = t.badgeconnect_manifests
        result = self._conn.execute(delete(table).where(table.c.provider_id == provider_id))
        return result.rowcount > 0


class Verifications(_Repository):
    """Pending email verifications of backpack connections."""

    def create(
        self,
        owner: str,
        provider_id: int,
        email: str,
        password: str | Secret | None,
        *,
        ttl: timedelta = timedelta(hours=24),
        login: PendingLogin | None = None,
    ) -> tuple[PendingVerification, str]:
        """Start (or restart) a verification; returns it and the one-time code to send.

        Only a hash of the code is stored; the password and the ``login`` token are sealed.
        Any earlier pending verification of the same owner on the same provider is replaced.
        """
        owner = check_owner(owner)
        Providers(self._conn, self._box).get(provider_id)
        code = new_verification_code()
        now = utcnow()
        self._conn.execute(
            delete(t.pending_verifications).where(
                t.pending_verifications.c.owner == owner,
                t.pending_verifications.c.provider_id == provider_id,
            )
        )
        result = self._conn.execute(
            insert(t.pending_verifications).values(
                owner=owner,
                provider_id=provider_id,
                email=check_email(email),
                password=self._box.seal_optional(password),
                secret_hash=hash_secret(code),
                created_at=now,
                expires_at=now + ttl,
                access_token=self._box.seal_optional(login.access_token if login else None),
                refresh_token=self._box.seal_optional(login.refresh_token if login else None),
                token_expires_at=login.expires_at if login else None,
            )
        )
        return self.get(_new_id(result)), code

    def get(self, verification_id: int) -> PendingVerification:
        """Return one pending verification. Raises :class:`RecordNotFoundError`."""
        row = self._conn.execute(
            select(t.pending_verifications).where(t.pending_verifications.c.id == verification_id)
        ).first()
        if row is None:
            raise RecordNotFoundError("pending verification", verification_id)
        return self._pending(row)

    def find(self, owner: str, provider_id: int | None = None) -> list[PendingVerification]:
        """Return an owner's pending verifications, optionally on one provider only."""
        query = select(t.pending_verifications).where(t.pending_verifications.c.owner == owner)
        if provider_id is not None:
            query = query.where(t.pending_verifications.c.provider_id == provider_id)
        rows = self._conn.execute(query.order_by(t.pending_verifications.c.id))
        return [self._pending(row) for row in rows]

    def delete(self, verification_id: int) -> bool:
        """Forget one pending verification; returns whether there was one."""
        result = self._conn.execute(
            delete(t.pending_verifications).where(t.pending_verifications.c.id == verification_id)
        )
        return result.rowcount > 0

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete every expired verification; returns how many."""
        moment = now or utcnow()
        result = self._conn.execute(
            delete(t.pending_verifications).where(t.pending_verifications.c.expires_at <= moment)
        )
        return result.rowcount

    def _pending(self, row: Row[Any]) -> PendingVerification:
        return PendingVerification(
            id=row.id,
            provider_id=row.provider_id,
            owner=row.owner,
            email=row.email,
            password=self._box.open_optional(row.password),
            secret_hash=row.secret_hash,
            created_at=row.created_at,
            expires_at=row.expires_at,
            login=self._login(row),
        )

    def _login(self, row: Row[Any]) -> PendingLogin | None:
        access = self._box.open_optional(row.access_token)
        if access is None or row.token_expires_at is None:
            return None
        return PendingLogin(
            access, self._box.open_optional(row.refresh_token), row.token_expires_at
        )


class BadgeCache(_Repository):
    """What an account's selected collections held when last read (a JSON payload)."""

    def get(self, account_id: int) -> tuple[str, datetime] | None:
        """Return the cached payload and when it was fetched, or None."""
        row = self._conn.execute(
            select(t.badge_cache.c.payload, t.badge_cache.c.fetched_at).where(
                t.badge_cache.c.account_id == account_id
            )
        ).first()
        return None if row is None else (row.payload, row.fetched_at)

    def save(self, account_id: int, payload: str, fetched_at: datetime | None = None) -> None:
        """Store (or replace) an account's cached payload."""
        Accounts(self._conn, self._box).get(account_id)
        self.delete(account_id)
        self._conn.execute(
            insert(t.badge_cache).values(
                account_id=account_id, payload=payload, fetched_at=fetched_at or utcnow()
            )
        )

    def delete(self, account_id: int) -> bool:
        """Forget an account's cached payload; returns whether there was one."""
        result = self._conn.execute(
            delete(t.badge_cache).where(t.badge_cache.c.account_id == account_id)
        )
        return result.rowcount > 0


_SETTING_DEFAULTS: dict[str, str] = {
    "default_issuer_name": "openbackpack",
    "default_issuer_contact": "",
    "allow_external_backpacks": "1",
    "verification_email_subject": "",
    "verification_email_body": "",
    "site_url": "",
    "site_logo_url": "",
}


class Settings(_Repository):
    """Site-wide settings, with defaults for anything never set."""

    def get(self) -> SiteSettings:
        """Return the settings; the badge salt is created (randomly) on first read."""
        rows = self._conn.execute(select(t.settings.c.key, t.settings.c.value))
        stored: dict[str, str] = {key: value for key, value in rows}
        if "badge_salt" not in stored:
            stored["badge_salt"] = secrets.token_hex(16)
            self._conn.execute(
                insert(t.settings).values(key="badge_salt", value=stored["badge_salt"])
            )
        merged = {**_SETTING_DEFAULTS, **stored}
        return SiteSettings(
            default_issuer_name=merged["default_issuer_name"],
            default_issuer_contact=merged["default_issuer_contact"],
            badge_salt=merged["badge_salt"],
            allow_external_backpacks=merged["allow_external_backpacks"] == "1",
            verification_email_subject=merged["verification_email_subject"],
            verification_email_body=merged["verification_email_body"],
            site_url=merged["site_url"],
            site_logo_url=merged["site_logo_url"],
        )

    def update(
        self,
        *,
        default_issuer_name: str | None = None,
        default_issuer_contact: str | None = None,
        badge_salt: str | None = None,
        allow_external_backpacks: bool | None = None,
        verification_email_subject: str | None = None,
        verification_email_body: str | None = None,
        site_url: str | None = None,
        site_logo_url: str | None = None,
    ) -> SiteSettings:
        """Change some settings; arguments left as None keep their value.

        An empty verification email subject or body means the built-in text; their
        placeholders are checked by :func:`openbackpack.services.set_site_setting`.
        """
        changes: dict[str, str] = {}
        if verification_email_subject is not None:
            changes["verification_email_subject"] = verification_email_subject
        if verification_email_body is not None:
            changes["verification_email_body"] = verification_email_body
        if site_url is not None:
            changes["site_url"] = site_url
        if site_logo_url is not None:
            changes["site_logo_url"] = site_logo_url
        if default_issuer_name is not None:
            changes["default_issuer_name"] = default_issuer_name
        if default_issuer_contact is not None:
            changes["default_issuer_contact"] = (
                check_email(default_issuer_contact) if default_issuer_contact else ""
            )
        if badge_salt is not None:
            changes["badge_salt"] = badge_salt
        if allow_external_backpacks is not None:
            changes["allow_external_backpacks"] = "1" if allow_external_backpacks else "0"
        for key, value in changes.items():
            self._conn.execute(delete(t.settings).where(t.settings.c.key == key))
            self._conn.execute(insert(t.settings).values(key=key, value=value))
        return self.get()


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _provider(row: Row[Any]) -> Provider:
    return Provider(
        id=row.id,
        api_url=row.api_url,
        web_url=row.web_url,
        api_version=ApiVersion(row.api_version),
        sort_order=row.sort_order,
        created_at=row.created_at,
        modified_at=row.modified_at,
        rate_limit=row.rate_limit,
        burst=row.burst,
    )


def _direction_step(direction: object) -> int:
    if direction in ("up", -1) and not isinstance(direction, bool):
        return -1
    if direction in ("down", 1) and not isinstance(direction, bool):
        return 1
    raise InvalidDirectionError(direction)


def _collection_row(account_id: int, key: int | str, version: ApiVersion) -> dict[str, object]:
    if version is ApiVersion.V1:
        if isinstance(key, bool) or not str(key).strip().isdigit():
            raise InvalidInputError(f"v1 collection ids are group numbers, not {key!r}")
        return {"account_id": account_id, "group_id": int(key), "entity_id": None}
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError(f"collection ids are non-empty entity id strings, not {key!r}")
    return {"account_id": account_id, "group_id": None, "entity_id": key}
