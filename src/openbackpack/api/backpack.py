"""``BackpackApi``: Moodle's ``backpack_api`` class, method for method, for v1 and v2.

One object talks to one provider (site backpack) as one account: the provider's site (issuer)
account in *site mode*, or a user's account in *user mode*. It keeps Moodle's public method
names and meanings, with typed results and typed errors instead of "mixed" values (W4), Badgr
tokens cached in the store per (provider, account) and refreshed (W2, W5), an authentication
error that belongs to the instance (W6), and bounded concurrent reads (W8).

:class:`AsyncBackpackApi` is the same class for ``async`` code; both share one pure core.
:class:`BadgeConnectApi` is Moodle's ``backpack_api2p1`` for Badge Connect (2.1) backpacks,
which these classes refuse rather than fall into the v1 rows as Moodle 4.1 did (W14).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, overload

from openbackpack._exceptions import (
    APIStatusError,
    AuthenticationError,
    BackpackError,
)
from openbackpack.api._common import as_login_error, first_collection, only, sync_lock
from openbackpack.api._core import (
    ApiCore,
    Authentication,
    CollectionBadges,
    CollectionRef,
    TokenStep,
    check_status,
    collection_id_from_response,
    collection_key,
    compose_badges,
    is_token_refusal,
    next_token_step,
    now_utc,
)
from openbackpack.client import DEFAULT_CONCURRENCY as _DEFAULT_CONCURRENCY
from openbackpack.client import (
    BackpackClient,
    map_bounded,
)
from openbackpack.models import (
    ApiVersion,
    Collection,
    DisplayerBadge,
    DisplayerGroup,
    DisplayerUser,
    RemoteAssertion,
    RemoteBadgeClass,
    RemoteIssuer,
    TokenGrant,
)
from openbackpack.protocols import Action, Endpoint, Mode, badgr
from openbackpack.protocols import Mapping as ActionMapping
from openbackpack.store import (
    BackpackAccount,
    CachedToken,
    Provider,
    Secret,
    SelectedCollection,
    Store,
)

__all__ = ["BackpackApi"]


class BackpackApi:
    """Moodle's ``backpack_api`` for Displayer (v1) and Badgr (v2) backpacks, blocking.

    Args:
        provider: the site backpack (Moodle's ``badge_external_backpack`` row). Its API URL
            and version are used in both modes.
        account: a user's account on that provider for *user mode*; None (or the site
            account) for *site mode*, which uses the provider's site account from the store.
        store: where tokens, selections and accounts live.
        client: a :class:`~openbackpack.client.BackpackClient` to share (its connection pool,
            timeouts and retry policy); by default the API creates one and closes it in
            :meth:`close`.
        concurrency: how many assertions ``get_badges(..., expanded=True)`` fetches at once.

    Raises:
        ConfigurationError: site mode, and the provider has no site account.
        UnsupportedActionError: the provider speaks Badge Connect (2.1): it is not driven by
            these tables (Moodle 4.1 fell into the v1 rows, W14).
        InvalidInputError: the account belongs to another provider.

    Differences from Moodle: the mode follows the account (Moodle switched on any non-empty
    "user backpack"); the authentication error is reset per instance, not process-wide (W6).
    """

    def __init__(
        self,
        provider: Provider,
        account: BackpackAccount | None = None,
        *,
        store: Store,
        client: BackpackClient | None = None,
        concurrency: int = _DEFAULT_CONCURRENCY,
    ) -> None:
        self._core = ApiCore.create(provider, account, store)
        self._owns_client = client is None
        self._client = client if client is not None else BackpackClient()
        self._concurrency = concurrency

    # --- identity -------------------------------------------------------------------

    @property
    def provider(self) -> Provider:
        """The site backpack this API talks to."""
        return self._core.provider

    @property
    def account(self) -> BackpackAccount:
        """The account this API acts as (the site account in site mode)."""
        return self._core.account

    @property
    def mode(self) -> Mode:
        """Site or user mode."""
        return self._core.mode

    @property
    def api_version(self) -> ApiVersion:
        """The provider's API generation (1 or 2)."""
        return self._core.version

    # --- authentication -------------------------------------------------------------

    def authenticate(self) -> Authentication:
        """Log in as this API's account, or confirm that the cached login is still good.

        v2 (Badgr): use the token cached in the store for (provider, account) if it is valid
        for at least 60 more seconds; otherwise renew it with its refresh token; log in with
        the password only when there is no refresh token or the backpack refused it.
        v1 (Displayer): look the account's email up, once per instance.

        Returns:
            an :class:`Authentication`. Moodle returned -1 (v2), the Displayer userId (v1),
            false, or the token endpoint's error object, all "truthy" or not (W4).

        Raises:
            AuthenticationError: the backpack refused the credentials, or (v1) knows no user
                with that email; :meth:`get_authentication_error` then tells why.
            ConfigurationError: v2, and the account has no password and no usable token.
            TransportError, RateLimitError, ServerError, InvalidResponseError: as any call.
        """
        try:
            if self._core.version is ApiVersion.V1:
                return self._authenticate_v1()
            token, from_cache = self._access_token()
        except BackpackError as exc:
            self._core.record_failure(exc)
            raise
        return self._core.v2_authentication(token, from_cache)

    def clear_system_user_session(self) -> None:
        """Forget this mode's login: the account's cached token (in the store) and v1 userId.

        The next call logs in again. Unlike Moodle, the cache cleared is the account's, not
        the viewer's session (W5), and the whole token goes, not just its expiry.
        """
        self._core.clear_session()

    def get_authentication_error(self) -> str:
        """Why the last authentication of *this instance* failed, or ``""``.

        Moodle kept this in a process-wide static that every constructor reset (W6).
        """
        return self._core.auth_error

    # --- collections ------------------------------------------------------------------

    def get_collections(self) -> list[Collection] | list[DisplayerGroup]:
        """List the account's collections (user mode).

        Returns:
            v2: the Badgr collections; v1: the Displayer's public groups (``.groups``).

        Raises:
            UnsupportedActionError: in site mode (before any I/O).
            AuthenticationError: the login failed. Moodle went on and called the backpack
                with no token or a stale one, then returned ``[]``.
        """
        action = Action.GROUPS if self._core.version is ApiVersion.V1 else Action.COLLECTIONS
        result = self._curl_request(action)
        assert isinstance(result, list)
        return result

    @overload
    def get_badges(
        self, collection: CollectionRef, expanded: Literal[False] = False
    ) -> Collection | list[DisplayerBadge]: ...

    @overload
    def get_badges(
        self, collection: CollectionRef, expanded: Literal[True]
    ) -> CollectionBadges | list[DisplayerBadge]: ...

    def get_badges(
        self, collection: CollectionRef, expanded: bool = False
    ) -> Collection | CollectionBadges | list[DisplayerBadge]:
        """Read one collection (user mode).

        Args:
            collection: a stored selection, a collection or group object, or its id.
            expanded: v2 only: also fetch every assertion of the collection, with its badge
                class and issuer, ``concurrency`` at a time.

        Returns:
            v1: the group's badges. v2: the :class:`~openbackpack.models.Collection`, or with
            ``expanded`` a :class:`CollectionBadges` whose ``badges`` keep the collection's
            order and whose ``failures`` name each assertion that could not be read. Moodle
            returned badge classes with ``.assertion`` set, fetched one after another, and
            stopped at the first failure (W8). An empty answer (v2: an empty result list,
            v1: no badges) is ``[]``, as in Moodle.

        Raises:
            InvalidInputError: the collection id is empty (Moodle returned ``[]``).
            UnsupportedActionError: in site mode.
            AuthenticationError, NotFoundError, ...: reading the collection itself failed.
        """
        key = collection_key(collection)
        if self._core.version is ApiVersion.V1:
            return only(self._curl_request(Action.BADGES, collection=key), list)
        listed = only(self._curl_request(Action.BADGES, collection=key), list)
        if not listed:
            # Badgr answered an empty result list: as in Moodle, that is no badges.
            return []
        found = first_collection(listed, Action.BADGES.value)
        if not expanded:
            return found
        outcomes = map_bounded(self.get_assertion, found.assertions, self._concurrency)
        return compose_badges(found, outcomes)

    def get_collection_record(self, account_id: int | None = None) -> list[int | str]:
        """The ids of the collections an account chose to display (default: this account).

        Moodle's parameter is misnamed ``$collectionid`` but is the connection (account) id.

        Raises:
            RecordNotFoundError: no such account.
            InvalidInputError: the account is on another provider.
        """
        return self._core.selection(account_id)

    def set_backpack_collections(
        self, account_id: int | None, collections: Iterable[CollectionRef]
    ) -> list[SelectedCollection]:
        """Replace an account's chosen collections (v1 group numbers or v2 entity ids).

        Returns:
            the stored selection (Moodle returned ``true``).

        Raises:
            InvalidInputError: an id of the wrong kind for the provider, or an account on
                another provider.
            RecordNotFoundError: no such account.
        """
        return self._core.replace_selection(account_id, collections)

    def get_collection_id_from_response(
        self, data: Collection | DisplayerGroup | Mapping[str, Any]
    ) -> int | str:
        """The id of a collection as the backpack answered it: ``groupId`` or ``entityId``."""
        return collection_id_from_response(data)

    def disconnect_backpack(
        self, user_id: str, account_id: int, *, impersonating: bool = False
    ) -> bool:
        """Disconnect a user from this backpack: delete their account here.

        The account's selected collections and cached tokens go with it; the user's accounts
        on other providers stay (Moodle deleted all of them, W19).

        Returns:
            False, changing nothing, when ``impersonating`` (Moodle's "logged in as"), in site
            mode, or unless ``user_id`` owns this API's account and ``account_id`` is it.
        """
        return self._core.disconnect(user_id, account_id, impersonating)

    # --- assertions and issuing -------------------------------------------------------

    def get_assertion(self, entity_id: str) -> RemoteAssertion:
        """Fetch one backpack assertion, badge class and issuer expanded (v2, user mode).

        Returns:
            the assertion; unlike Moodle it keeps ``recipient`` (W20).

        Raises:
            UnsupportedActionError: v1, or site mode (before any I/O).
            NotFoundError: no such assertion in this backpack.
        """
        return only(self._curl_request(Action.ASSERTION, entity_id=entity_id), RemoteAssertion)

    def put_issuer(self, data: Mapping[str, Any]) -> RemoteIssuer:
        """Create an issuer from its Open Badges JSON (v2, site mode).

        Returns:
            the created issuer; its ``id`` is Badgr's entityId.

        Raises:
            UnsupportedActionError: v1 or user mode. RemoteValidationError: Badgr refused it.
        """
        return only(self._curl_request(Action.ISSUERS, data=data), RemoteIssuer)

    def put_badgeclass(self, entity_id: str, data: Mapping[str, Any]) -> RemoteBadgeClass:
        """Create a badge class under the issuer ``entity_id`` (v2, site mode).

        Unlike Moodle, alignments and tags reach Badgr (W9).
        """
        return only(
            self._curl_request(Action.BADGE_CLASSES, entity_id=entity_id, data=data),
            RemoteBadgeClass,
        )

    def put_badgeclass_assertion(self, entity_id: str, data: Mapping[str, Any]) -> RemoteAssertion:
        """Award the badge class ``entity_id`` (v2, site mode)."""
        return only(
            self._curl_request(Action.ASSERTIONS, entity_id=entity_id, data=data),
            RemoteAssertion,
        )

    def update_assertion(self, entity_id: str, data: Mapping[str, Any]) -> RemoteAssertion:
        """Update the award ``entity_id`` with PUT (v2, site mode)."""
        return only(
            self._curl_request(Action.UPDATE_ASSERTION, entity_id=entity_id, data=data),
            RemoteAssertion,
        )

    def import_badge_assertion(self, url: str) -> RemoteAssertion:
        """Import a hosted assertion into the backpack by its URL (v2, user mode).

        Raises:
            DuplicateBadgeError: it is already in the backpack (Badgr's ``DUPLICATE_BADGE``).
            RemoteValidationError: Badgr could not verify it (see ``validation_errors``).
        """
        return only(self._curl_request(Action.IMPORT_BADGE, data=url), RemoteAssertion)

    def import_badge_image(self, image: bytes, media_type: str) -> RemoteAssertion:
        """Import a baked PNG or SVG badge into the backpack (v2, user mode).

        The backpack reads the badge baked in the image and verifies it as for a URL.

        Raises:
            DuplicateBadgeError: it is already in the backpack.
            RemoteValidationError: Badgr could not verify it.
        """
        data_uri = f"data:{media_type};base64,{base64.b64encode(image).decode('ascii')}"
        mapping = self._core.find(Action.IMPORT_BADGE)
        token, _ = self._access_token()
        outgoing = self._client.outgoing(
            mapping.endpoint,
            self._core.api_url,
            data={"image": data_uri},
            token=token.access_token.reveal(),
        )
        # Interpreted by the import row, so that DUPLICATE_BADGE is its typed error.
        answer = self._client.send(outgoing)
        return only(self._client.interpret(mapping, answer), RemoteAssertion)

    def remove_backpack_assertion(self, entity_id: str) -> None:
        """Remove an assertion from the backpack (v2, user mode): Badgr's ``DELETE``.

        Raises:
            NotFoundError: no such assertion in this backpack.
        """
        token, _ = self._access_token()
        self._client.fetch(
            badgr.route("backpack.assertions.delete"),
            self._core.api_url,
            params={"assertion": entity_id},
            token=token.access_token.reveal(),
        )

    def list_items(
        self,
        endpoint: Endpoint,
        params: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] = (),
    ) -> Iterator[Any]:
        """The items of any list route of the Badgr table, with this account's token.

        Paged routes are followed page after page; what the push looks at before it
        re-creates something whose create may have happened (issuers, badge classes, a
        badge class's assertions for one recipient).
        """
        token, _ = self._access_token()
        bearer = token.access_token.reveal()
        if endpoint.paged:
            yield from self._client.iter_items(
                endpoint, self._core.api_url, params=params, query=query, token=bearer
            )
            return
        answer = self._client.fetch(
            endpoint, self._core.api_url, params=params, query=query, token=bearer
        )
        yield from self._client.page_items(answer, endpoint.name)

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client, if this API created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> BackpackApi:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- Moodle's private methods -------------------------------------------------------

    def _define_mappings(self) -> tuple[ActionMapping, ...]:
        """The rows of this (version, mode), as Moodle's ``define_mappings``."""
        return self._core.mappings

    def _get_auth_user_id(self) -> int:
        """Whose tokens these are: the account id (Moodle used the viewer's id, W5)."""
        return self._core.account.id

    def _get_token_key(self) -> tuple[int, int]:
        """The cache key of this API's tokens: (provider id, account id)."""
        return self._core.key

    @staticmethod
    def _check_status(status: str) -> str | None:
        """The message for a Displayer ``missing`` status, else None."""
        return check_status(status)

    def _curl_request(
        self,
        action: Action,
        collection: int | str | None = None,
        entity_id: str | None = None,
        data: Any = None,
    ) -> Any:
        """Run one action: find its row, log in if needed, send, and retry once on a 401."""
        mapping = self._core.find(action)
        if self._core.version is ApiVersion.V1 and "user" in mapping.endpoint.path_params:
            self.authenticate()
        params = self._core.params_for(mapping, collection, entity_id)
        body = self._core.body_for(mapping, data)
        if not mapping.auth:
            return self._client.perform(mapping, self._core.api_url, params=params, data=body)
        token, _ = self._access_token()
        try:
            return self._send_with(mapping, params, body, token)
        except AuthenticationError as exc:
            if not is_token_refusal(exc):
                raise
        # The token was refused mid-session: renew it once, then try once more.
        token, _ = self._access_token(rejected=token.access_token.reveal())
        return self._send_with(mapping, params, body, token)

    def _send_with(
        self, mapping: ActionMapping, params: dict[str, str | int], body: Any, token: CachedToken
    ) -> Any:
        return self._client.perform(
            mapping,
            self._core.api_url,
            params=params,
            data=body,
            token=token.access_token.reveal(),
        )

    def _authenticate_v1(self) -> Authentication:
        if self._core.remote_user_id is not None:
            return self._core.v1_authentication(self._core.remote_user_id, from_cache=True)
        mapping = self._core.find(Action.USER)
        try:
            user = self._client.perform(
                mapping, self._core.api_url, data=self._core.body_for(mapping)
            )
        except APIStatusError as exc:
            raise as_login_error(exc) from exc
        return self._core.v1_authentication(only(user, DisplayerUser).user_id, from_cache=False)

    def _access_token(self, rejected: str | None = None) -> tuple[CachedToken, bool]:
        """A usable Badgr token and whether it came from the cache, renewing it at most once."""
        memo = self._core.usable_memo()
        if memo is not None and rejected is None:
            return memo, True
        with sync_lock(self._core):
            cached = self._core.load_token()
            step = next_token_step(cached, now_utc(), rejected)
            if step is TokenStep.USE and cached is not None:
                self._core.token = cached
                return cached, True
            grant = None
            if step is TokenStep.REFRESH and cached is not None and cached.refresh_token:
                grant = self._refresh(cached.refresh_token)
            return self._core.save_grant(grant or self._login()), False

    def _refresh(self, refresh_token: Secret) -> TokenGrant | None:
        try:
            return self._client.refresh_grant(self._core.api_url, refresh_token.reveal())
        except APIStatusError:
            # Refused (or rotated away by another process): fall back to a full login.
            return None

    def _login(self) -> TokenGrant:
        return self._client.password_grant(
            self._core.api_url, self._core.account.email, self._core.password()
        )
