"""Managing site backpacks (Moodle's ``badges/backpacks.php``), with the fixes of W13 and W16."""

from __future__ import annotations

from dataclasses import dataclass

from openbackpack._exceptions import BackpackError, InvalidInputError
from openbackpack.api import BackpackApi
from openbackpack.api.discovery import discover_manifest
from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion
from openbackpack.services._site import require_external_backpacks
from openbackpack.store import SITE_OWNER, BackpackAccount, Provider, Store, Transaction

__all__ = [
    "ConnectionTest",
    "SiteBackpack",
    "add_backpack",
    "check_backpack_connection",
    "edit_backpack",
    "list_backpacks",
    "move_backpack",
    "remove_backpack",
]


@dataclass(frozen=True, slots=True)
class SiteBackpack:
    """A provider with its site (issuer) account, as an administrator sees it."""

    provider: Provider
    site_account: BackpackAccount | None
    is_primary: bool

    @property
    def id(self) -> int:
        """The provider's id."""
        return self.provider.id


def _check_credentials(version: ApiVersion, email: str | None, password: str | None) -> None:
    # Moodle silently blanks what a version cannot use; saying so is kinder than losing it.
    if version.uses_oauth and (email or password):
        raise InvalidInputError(
            f"API version {version.value} backpacks (Badge Connect, Open Badges 3.0) connect "
            "with OAuth 2; they take no site email or password"
        )
    if version is ApiVersion.V1 and password:
        raise InvalidInputError(
            "Displayer (v1) backpacks are read-only; they take no site password"
        )
    if version is ApiVersion.V2 and (email is None) != (password is None):
        raise InvalidInputError("give both the site account's email and its password, or neither")


def _site_backpack(tx: Transaction, provider: Provider) -> SiteBackpack:
    primary = tx.providers.primary()
    return SiteBackpack(
        provider=provider,
        site_account=tx.accounts.site_account(provider.id),
        is_primary=primary is not None and primary.id == provider.id,
    )


def add_backpack(
    store: Store,
    api_url: str,
    web_url: str,
    api_version: object,
    *,
    email: str | None = None,
    password: str | None = None,
) -> SiteBackpack:
    """Add a site backpack, with its site account when an email and password are given.

    It goes last in the order (the first one added is the primary). A v2 site account given
    a password but no email uses the site's ``default_issuer_contact``, as Moodle's form does.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
        InvalidApiVersionError, InvalidUrlError, DuplicateRecordError: as the store does.
        InvalidInputError: credentials the version cannot use, or half a pair.
    """
    version = ApiVersion.parse(api_version)
    with store.transaction() as tx:
        require_external_backpacks(tx)
        if version is ApiVersion.V2 and password is not None and email is None:
            email = tx.settings.get().default_issuer_contact or None
    _check_credentials(version, email, password)
    with store.transaction() as tx:
        require_external_backpacks(tx)
        provider = tx.providers.create(api_url, web_url, version)
        if version is ApiVersion.V1 and email:
            tx.accounts.save_credentials(provider.id, SITE_OWNER, email, "")
        else:
            tx.accounts.save_credentials(provider.id, SITE_OWNER, email, password)
        return _site_backpack(tx, provider)


def edit_backpack(
    store: Store,
    provider_id: int,
    *,
    api_url: str | None = None,
    web_url: str | None = None,
    api_version: object = None,
    email: str | None = None,
    password: str | None = None,
) -> SiteBackpack:
    """Change a site backpack; arguments left as None keep their value.

    Remote-id mappings (the ids the backpack gave to our issuers, badge classes and awards)
    are wiped only when they stop being valid: when the API URL changes (another server) or
    the site account's email changes (another account). Moodle wipes them on every edit,
    which creates duplicate issuers on the next push (W16). Changed credentials also drop the
    cached token, so they are checked on the next request.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
        before = tx.providers.get(provider_id)
        version = ApiVersion.parse(api_version) if api_version is not None else before.api_version
        if version is not ApiVersion.V2:  # v2 edits may change the password alone
            _check_credentials(version, email, password)
        provider = tx.providers.update(
            provider_id, api_url=api_url, web_url=web_url, api_version=version
        )
        account = tx.accounts.site_account(provider_id)
        account_changed = email is not None and (account is None or account.email != email)
        if email is not None or password is not None:
            account = _save_site_credentials(tx, provider, account, email, password)
            if account is not None:
                tx.token_cache.delete(account.id)
        if provider.api_url != before.api_url or account_changed:
            tx.identifiers.delete_all(provider_id)
        return _site_backpack(tx, provider)


def _save_site_credentials(
    tx: Transaction,
    provider: Provider,
    account: BackpackAccount | None,
    email: str | None,
    password: str | None,
) -> BackpackAccount | None:
    if account is not None:
        return tx.accounts.update(account.id, email=email, password=password)
    if email is None or (password is None and provider.api_version is ApiVersion.V2):
        raise InvalidInputError("a new site account needs both an email and a password")
    return tx.accounts.create(provider.id, SITE_OWNER, email, password or "")


def remove_backpack(store: Store, provider_id: int) -> None:
    """Delete a site backpack and everything that belongs to it; never the primary one.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
        tx.providers.delete(provider_id)


def move_backpack(store: Store, provider_id: int, direction: str | int) -> list[SiteBackpack]:
    """Swap a backpack with its neighbour (``up`` towards primary, or ``down``); return the list.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
        tx.providers.move(provider_id, direction)
        return [_site_backpack(tx, provider) for provider in tx.providers.list()]


def list_backpacks(store: Store) -> list[SiteBackpack]:
    """Return every site backpack, primary first (allowed while external backpacks are off)."""
    with store.transaction() as tx:
        return [_site_backpack(tx, provider) for provider in tx.providers.list()]


@dataclass(frozen=True, slots=True)
class ConnectionTest:
    """Whether the site account logs in (:func:`check_backpack_connection`), and what was said."""

    ok: bool
    message: str


def _check_discovery(
    store: Store, provider_id: int, client: BackpackClient | None
) -> ConnectionTest:
    with store.transaction() as tx:
        ob3 = tx.providers.get(provider_id).api_version is ApiVersion.V3P0
    what = "Open Badges 3.0 service description" if ob3 else "Badge Connect manifest"
    try:
        manifest = discover_manifest(store, provider_id, client=client, force=True)
    except BackpackError as exc:
        return ConnectionTest(False, f"the {what} cannot be read: {exc}")
    return ConnectionTest(
        True, f"{what} read: {manifest.name or 'unnamed'}, apiBase {manifest.api_base}"
    )


def check_backpack_connection(
    store: Store, provider_id: int, *, client: BackpackClient | None = None
) -> ConnectionTest:
    """Log in with the site account, as Moodle's "Test settings" does, and report the outcome.

    The cached token is dropped first, so the credentials themselves are checked. On failure
    the message carries the backpack's own explanation. Only the login is tested, not the
    account's rights to issue. A Badge Connect (2.1) or OB 3.0 backpack has no site account:
    its manifest (service description) is read again instead (discovery, which also stores
    what it says).

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
        provider = tx.providers.get(provider_id)
        account = tx.accounts.site_account(provider_id)
    if provider.api_version.uses_oauth:
        return _check_discovery(store, provider_id, client)
    if account is None:
        return ConnectionTest(
            False, "this backpack has no site account: add its email and password"
        )
    try:
        with BackpackApi(provider, store=store, client=client) as api:
            api.clear_system_user_session()
            api.authenticate()
    except BackpackError as exc:
        # The reason (unreachable, wrong password, ...) is in the error's own words.
        return ConnectionTest(False, f"the site account could not log in: {exc}")
    return ConnectionTest(True, "backpack connection successfully established")
