"""The half of ``BackpackApi`` that both twins share and that never touches the network.

It knows the provider, the account and the mode; picks mapping rows; fills path parameters
and bodies; decides what to do with a cached token; composes results; and reads and writes the
store (synchronously: the async twin runs these calls in a worker thread).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from openbackpack._exceptions import (
    AuthenticationError,
    BackpackError,
    ConfigurationError,
    InvalidInputError,
    InvalidResponseError,
    RecordNotFoundError,
)
from openbackpack.models import (
    ApiVersion,
    Collection,
    DisplayerGroup,
    RemoteAssertion,
    RemoteBadgeClass,
    RemoteIssuer,
    TokenGrant,
)
from openbackpack.protocols import (
    Action,
    Mode,
    RequestKind,
    assertion_body,
    badgeclass_body,
    credentials_form,
    define_mappings,
    email_form,
    find_mapping,
    import_body,
    issuer_body,
)
from openbackpack.protocols import (
    Mapping as ActionMapping,
)
from openbackpack.store import BackpackAccount, CachedToken, Provider, SelectedCollection, Store

__all__ = [
    "DEFAULT_EXPIRES_IN",
    "REFRESH_MARGIN",
    "Authentication",
    "BadgeFailure",
    "CollectionBadges",
    "ExternalBadge",
    "TokenStep",
]

REFRESH_MARGIN: Final = timedelta(seconds=60)
"""A cached token is renewed this long before it expires, so it never dies mid-request."""

DEFAULT_EXPIRES_IN: Final = 900
"""The lifetime assumed when a token answer has no ``expires_in`` (Moodle's 15 minutes)."""

# Messages of Moodle's language pack, for the errors Moodle itself explained.
_NO_SUCH_USER: Final = (
    "User with this email address does not have an account with the current backpack provider."
)

CollectionRef = SelectedCollection | Collection | DisplayerGroup | int | str
"""Anything that names a collection: a stored selection, a remote collection, or its id."""


@dataclass(frozen=True, slots=True)
class Authentication:
    """Who :meth:`~openbackpack.BackpackApi.authenticate` is logged in as.

    Attributes:
        provider_id: the provider (site backpack).
        account_id: the account whose credentials were used (the site account in site mode).
        mode: site or user.
        remote_user_id: the Displayer ``userId`` (v1), else None.
        expires_at: when the Badgr access token expires (v2), else None.
        from_cache: True when no HTTP request was needed.
    """

    provider_id: int
    account_id: int
    mode: Mode
    remote_user_id: int | None = None
    expires_at: datetime | None = None
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class ExternalBadge:
    """One badge of an expanded collection: the assertion, its badge class, and the issuer."""

    assertion: RemoteAssertion
    badgeclass: RemoteBadgeClass
    issuer: RemoteIssuer | None


@dataclass(frozen=True, slots=True)
class BadgeFailure:
    """An assertion of a collection that could not be fetched or read, and why."""

    assertion_id: str
    error: BackpackError


@dataclass(frozen=True, slots=True)
class CollectionBadges:
    """An expanded v2 collection: its badges in the collection's order, and what failed."""

    collection: Collection
    badges: list[ExternalBadge] = field(default_factory=list)
    failures: list[BadgeFailure] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every assertion of the collection was fetched."""
        return not self.failures


class TokenStep(enum.Enum):
    """What to do to have a usable Badgr token."""

    USE = "use"
    REFRESH = "refresh"
    LOGIN = "login"


def now_utc() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def is_fresh(token: CachedToken | None, now: datetime) -> bool:
    """Whether a cached token can still be used for at least :data:`REFRESH_MARGIN`."""
    return token is not None and token.expires_at - REFRESH_MARGIN > now


def next_token_step(
    cached: CachedToken | None, now: datetime, rejected: str | None = None
) -> TokenStep:
    """Decide how to obtain a token, given the cached one.

    ``rejected`` is an access token the backpack just answered 401 to. If the cache still
    holds that token it must be renewed; if the cache holds another one, a concurrent caller
    already renewed it and it is used as it is.
    """
    if cached is None:
        return TokenStep.LOGIN
    if rejected is not None:
        if cached.access_token.reveal() != rejected:
            return TokenStep.USE
    elif is_fresh(cached, now):
        return TokenStep.USE
    return TokenStep.REFRESH if cached.refresh_token is not None else TokenStep.LOGIN


def expiry_of(grant: TokenGrant, now: datetime) -> datetime:
    """When a freshly granted token expires (``expires_in``, else Moodle's 900 s)."""
    seconds = grant.expires_in if grant.expires_in is not None else DEFAULT_EXPIRES_IN
    return now + timedelta(seconds=max(0, seconds))


def collection_key(collection: CollectionRef) -> int | str:
    """The provider's id of a collection, however it was named.

    Raises:
        InvalidInputError: the id is empty (Moodle silently returned ``[]``).
    """
    key: int | str
    if isinstance(collection, SelectedCollection):
        key = collection.key
    elif isinstance(collection, Collection):
        key = collection.entity_id
    elif isinstance(collection, DisplayerGroup):
        key = collection.group_id
    else:
        key = collection
    if isinstance(key, bool) or (isinstance(key, str) and not key.strip()):
        raise InvalidInputError(f"a collection id must be a non-empty id, not {key!r}")
    return key


def collection_id_from_response(data: Collection | DisplayerGroup | Mapping[str, Any]) -> int | str:
    """Moodle's ``get_collection_id_from_response``: ``groupId`` (v1) or ``entityId`` (v2).

    Raises:
        InvalidInputError: ``data`` has neither.
    """
    if isinstance(data, Collection | DisplayerGroup):
        return data.id
    for key in ("entityId", "groupId"):
        value = data.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and value != "":
            return value
    raise InvalidInputError("the response has neither an entityId nor a groupId")


def external_badge(assertion: RemoteAssertion) -> ExternalBadge:
    """Split an expanded backpack assertion into assertion, badge class and issuer.

    Moodle's ``get_badges`` returned the badge class with ``assertion`` and ``issuer`` set on
    it; here the three stay separate typed objects.

    Raises:
        InvalidResponseError: the backpack did not expand the badge class (Moodle skipped
            such an assertion silently).
    """
    badgeclass = assertion.badgeclass
    if not isinstance(badgeclass, RemoteBadgeClass):
        raise InvalidResponseError(
            f"assertion {assertion.id}: the backpack did not expand its badge class",
            action=Action.ASSERTION.value,
        )
    issuer = badgeclass.issuer if isinstance(badgeclass.issuer, RemoteIssuer) else None
    return ExternalBadge(assertion=assertion, badgeclass=badgeclass, issuer=issuer)


def compose_badges(
    collection: Collection, outcomes: Iterable[RemoteAssertion | BackpackError]
) -> CollectionBadges:
    """Put fetched assertions (or their errors) in the collection's order."""
    result = CollectionBadges(collection)
    for assertion_id, outcome in zip(collection.assertions, outcomes, strict=True):
        try:
            if isinstance(outcome, BackpackError):
                raise outcome
            result.badges.append(external_badge(outcome))
        except BackpackError as exc:
            result.failures.append(BadgeFailure(assertion_id, exc))
    return result


class ApiCore:
    """The state and pure decisions of one ``BackpackApi`` (site or user mode)."""

    def __init__(self, provider: Provider, account: BackpackAccount, store: Store) -> None:
        if account.provider_id != provider.id:
            raise InvalidInputError(
                f"account {account.id} belongs to provider {account.provider_id}, "
                f"not to provider {provider.id}"
            )
        self.provider = provider
        self.account = account
        self.store = store
        self.mode = Mode.SITE if account.is_site_account else Mode.USER
        # Raises UnsupportedActionError for a 2.1 provider: never the v1 rows (W14).
        self.mappings = define_mappings(provider.api_version, self.mode)
        self.auth_error = ""
        self.remote_user_id: int | None = None
        self.token: CachedToken | None = None

    @classmethod
    def create(cls, provider: Provider, account: BackpackAccount | None, store: Store) -> ApiCore:
        """Build the core; without an account, use the provider's site account (site mode).

        Raises:
            ConfigurationError: site mode, and the provider has no site account.
            UnsupportedActionError: the provider speaks Badge Connect (2.1).
        """
        if account is None:
            with store.transaction() as tx:
                account = tx.accounts.site_account(provider.id)
            if account is None:
                raise ConfigurationError(
                    f"site backpack {provider.id} ({provider.api_url}) has no site account: "
                    "store its issuer credentials (owner SITE_OWNER) before using it in site mode"
                )
        return cls(provider, account, store)

    @property
    def version(self) -> ApiVersion:
        """The provider's API generation."""
        return self.provider.api_version

    @property
    def api_url(self) -> str:
        """The provider's API URL."""
        return self.provider.api_url

    @property
    def key(self) -> tuple[int, int]:
        """What tokens are cached and locked by: (provider, account), never the viewer (W5)."""
        return (self.provider.id, self.account.id)

    def find(self, action: Action) -> ActionMapping:
        """The row for an action in this mode; raises UnsupportedActionError before any I/O."""
        return find_mapping(self.version, self.mode, action)

    def params_for(
        self,
        mapping: ActionMapping,
        collection: int | str | None = None,
        entity_id: str | None = None,
    ) -> dict[str, str | int]:
        """Fill a row's path parameters (Moodle's ``[PARAM1]``, ``[PARAM2]``, v1 userId).

        Raises:
            InvalidInputError: a needed value is missing.
        """
        params: dict[str, str | int] = {}
        for name in mapping.endpoint.path_params:
            value: int | str | None
            if name == "user":
                value = self.remote_user_id
            elif name in ("collection", "group"):
                value = collection
            else:
                value = entity_id
            if value is None or value == "":
                raise InvalidInputError(f"{mapping.action.value} needs a {name} id")
            params[name] = value
        return params

    def body_for(self, mapping: ActionMapping, data: Any = None) -> Any:
        """The body a row sends (Moodle's post params and request exporter)."""
        kind = mapping.request
        if kind is RequestKind.NONE:
            return None
        if kind is RequestKind.CREDENTIALS:
            return credentials_form(self.account.email, self.password())
        if kind is RequestKind.EMAIL:
            return email_form(self.account.email)
        if kind is RequestKind.URL:
            return import_body(data)
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{mapping.action.value} needs an Open Badges JSON object")
        builders = {
            RequestKind.ISSUER: issuer_body,
            RequestKind.BADGE_CLASS: badgeclass_body,
            RequestKind.ASSERTION: assertion_body,
        }
        return builders[kind](data)

    def password(self) -> str:
        """The account's password, revealed only to go into the token request.

        Raises:
            ConfigurationError: the account has no password to log in with.
        """
        if self.account.password is None:
            raise ConfigurationError(
                f"backpack account {self.account.id} has no password to log in with"
            )
        return self.account.password.reveal()

    # --- authentication state ---------------------------------------------------------

    def record_failure(self, error: BackpackError) -> None:
        """Remember why authentication failed, for :meth:`get_authentication_error`."""
        description = getattr(error, "description", "") or ""
        status = getattr(error, "status_code", None)
        if self.version is ApiVersion.V1 and status == 404 and not description:
            description = check_status("missing") or ""
        self.auth_error = description or str(error)

    def v1_authentication(self, user_id: int, from_cache: bool) -> Authentication:
        """The result of a Displayer login, remembered for later calls of this instance."""
        self.remote_user_id = user_id
        self.auth_error = ""
        return Authentication(
            self.provider.id,
            self.account.id,
            self.mode,
            remote_user_id=user_id,
            from_cache=from_cache,
        )

    def v2_authentication(self, token: CachedToken, from_cache: bool) -> Authentication:
        """The result of a Badgr login."""
        self.auth_error = ""
        return Authentication(
            self.provider.id,
            self.account.id,
            self.mode,
            expires_at=token.expires_at,
            from_cache=from_cache,
        )

    def usable_memo(self) -> CachedToken | None:
        """The token this instance last used, if it is still fresh (no store read needed)."""
        return self.token if is_fresh(self.token, now_utc()) else None

    # --- the store (synchronous) ------------------------------------------------------

    def load_token(self) -> CachedToken | None:
        """The account's cached Badgr token, if any."""
        with self.store.transaction() as tx:
            return tx.token_cache.get(self.account.id)

    def save_grant(self, grant: TokenGrant) -> CachedToken:
        """Cache a new token for the account (sealed in the store) and remember it."""
        with self.store.transaction() as tx:
            self.token = tx.token_cache.save(
                self.account.id,
                grant.access_token,
                grant.refresh_token,
                expiry_of(grant, now_utc()),
            )
        return self.token

    def clear_session(self) -> None:
        """Forget this mode's login: the cached token (store and memory), the v1 userId."""
        self.token = None
        self.remote_user_id = None
        with self.store.transaction() as tx:
            tx.token_cache.delete(self.account.id)

    def own_account_id(self, account_id: int | None) -> int:
        """Check that ``account_id`` is an account on this provider (default: ours)."""
        if account_id is None:
            return self.account.id
        with self.store.transaction() as tx:
            account = tx.accounts.get(account_id)
        if account.provider_id != self.provider.id:
            raise InvalidInputError(
                f"account {account_id} is not on site backpack {self.provider.id}"
            )
        return account_id

    def replace_selection(
        self, account_id: int | None, collections: Iterable[CollectionRef]
    ) -> list[SelectedCollection]:
        """Store the chosen collections of an account, replacing its earlier choice."""
        target = self.own_account_id(account_id)
        keys = [collection_key(item) for item in collections]
        with self.store.transaction() as tx:
            return tx.collections.replace(target, keys)

    def selection(self, account_id: int | None) -> list[int | str]:
        """The ids of an account's chosen collections, in the order chosen."""
        target = self.own_account_id(account_id)
        with self.store.transaction() as tx:
            return [item.key for item in tx.collections.list(target)]

    def disconnect(self, user_id: str, account_id: int, impersonating: bool) -> bool:
        """Delete the user's own account here, with its selections and tokens.

        Returns False, changing nothing, unless this is a user-mode API of ``user_id`` and
        ``account_id`` is that user's account on this provider. The user's other accounts
        stay (Moodle deleted every backpack of the user, W19).
        """
        if impersonating or self.mode is Mode.SITE or user_id != self.account.owner:
            return False
        if account_id != self.account.id:
            return False
        with self.store.transaction() as tx:
            try:
                tx.accounts.delete(account_id)
            except RecordNotFoundError:
                return False
        self.token = None
        self.remote_user_id = None
        return True


def check_status(status: str) -> str | None:
    """Moodle's ``check_status``: the message for a Displayer ``missing`` status, else None."""
    return _NO_SUCH_USER if status == "missing" else None


def is_token_refusal(error: BaseException) -> bool:
    """Whether an error means the backpack refused the token (so renew it and retry once)."""
    return isinstance(error, AuthenticationError) and error.status_code == 401
