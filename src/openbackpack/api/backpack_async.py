"""``AsyncBackpackApi``: ``BackpackApi`` for ``async`` code, over the same core."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any, Literal, overload

from openbackpack._exceptions import (
    APIStatusError,
    AuthenticationError,
    BackpackError,
)
from openbackpack.api._common import as_login_error, async_lock, first_collection, in_thread, only
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
    AsyncBackpackClient,
    amap_bounded,
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
from openbackpack.protocols import Action, Mode
from openbackpack.protocols import Mapping as ActionMapping
from openbackpack.store import (
    BackpackAccount,
    CachedToken,
    Provider,
    Secret,
    SelectedCollection,
    Store,
)

__all__ = ["AsyncBackpackApi"]


class AsyncBackpackApi:
    """:class:`BackpackApi` for ``async`` code: the same methods, awaited.

    Arguments, results, errors and differences from Moodle are those of
    :class:`BackpackApi`. Store calls run in a worker thread so the event loop never
    blocks on the database; ``get_badges(..., expanded=True)`` runs its fetches as tasks.
    The lifecycle twin of ``close`` is :meth:`aclose`.
    """

    def __init__(
        self,
        provider: Provider,
        account: BackpackAccount | None = None,
        *,
        store: Store,
        client: AsyncBackpackClient | None = None,
        concurrency: int = _DEFAULT_CONCURRENCY,
    ) -> None:
        self._core = ApiCore.create(provider, account, store)
        self._owns_client = client is None
        self._client = client if client is not None else AsyncBackpackClient()
        self._concurrency = concurrency

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

    async def authenticate(self) -> Authentication:
        """See :meth:`BackpackApi.authenticate`."""
        try:
            if self._core.version is ApiVersion.V1:
                return await self._authenticate_v1()
            token, from_cache = await self._access_token()
        except BackpackError as exc:
            self._core.record_failure(exc)
            raise
        return self._core.v2_authentication(token, from_cache)

    async def clear_system_user_session(self) -> None:
        """See :meth:`BackpackApi.clear_system_user_session`."""
        await in_thread(self._core.clear_session)

    def get_authentication_error(self) -> str:
        """See :meth:`BackpackApi.get_authentication_error`."""
        return self._core.auth_error

    async def get_collections(self) -> list[Collection] | list[DisplayerGroup]:
        """See :meth:`BackpackApi.get_collections`."""
        action = Action.GROUPS if self._core.version is ApiVersion.V1 else Action.COLLECTIONS
        result = await self._curl_request(action)
        assert isinstance(result, list)
        return result

    @overload
    async def get_badges(
        self, collection: CollectionRef, expanded: Literal[False] = False
    ) -> Collection | list[DisplayerBadge]: ...

    @overload
    async def get_badges(
        self, collection: CollectionRef, expanded: Literal[True]
    ) -> CollectionBadges | list[DisplayerBadge]: ...

    async def get_badges(
        self, collection: CollectionRef, expanded: bool = False
    ) -> Collection | CollectionBadges | list[DisplayerBadge]:
        """See :meth:`BackpackApi.get_badges`."""
        key = collection_key(collection)
        if self._core.version is ApiVersion.V1:
            return only(await self._curl_request(Action.BADGES, collection=key), list)
        listed = only(await self._curl_request(Action.BADGES, collection=key), list)
        if not listed:
            # Badgr answered an empty result list: as in Moodle, that is no badges.
            return []
        found = first_collection(listed, Action.BADGES.value)
        if not expanded:
            return found
        outcomes = await amap_bounded(self.get_assertion, found.assertions, self._concurrency)
        return compose_badges(found, outcomes)

    async def get_collection_record(self, account_id: int | None = None) -> list[int | str]:
        """See :meth:`BackpackApi.get_collection_record`."""
        return await in_thread(lambda: self._core.selection(account_id))

    async def set_backpack_collections(
        self, account_id: int | None, collections: Iterable[CollectionRef]
    ) -> list[SelectedCollection]:
        """See :meth:`BackpackApi.set_backpack_collections`."""
        chosen = list(collections)
        return await in_thread(lambda: self._core.replace_selection(account_id, chosen))

    def get_collection_id_from_response(
        self, data: Collection | DisplayerGroup | Mapping[str, Any]
    ) -> int | str:
        """See :meth:`BackpackApi.get_collection_id_from_response`."""
        return collection_id_from_response(data)

    async def disconnect_backpack(
        self, user_id: str, account_id: int, *, impersonating: bool = False
    ) -> bool:
        """See :meth:`BackpackApi.disconnect_backpack`."""
        return await in_thread(lambda: self._core.disconnect(user_id, account_id, impersonating))

    async def get_assertion(self, entity_id: str) -> RemoteAssertion:
        """See :meth:`BackpackApi.get_assertion`."""
        result = await self._curl_request(Action.ASSERTION, entity_id=entity_id)
        return only(result, RemoteAssertion)

    async def put_issuer(self, data: Mapping[str, Any]) -> RemoteIssuer:
        """See :meth:`BackpackApi.put_issuer`."""
        return only(await self._curl_request(Action.ISSUERS, data=data), RemoteIssuer)

    async def put_badgeclass(self, entity_id: str, data: Mapping[str, Any]) -> RemoteBadgeClass:
        """See :meth:`BackpackApi.put_badgeclass`."""
        result = await self._curl_request(Action.BADGE_CLASSES, entity_id=entity_id, data=data)
        return only(result, RemoteBadgeClass)

    async def put_badgeclass_assertion(
        self, entity_id: str, data: Mapping[str, Any]
    ) -> RemoteAssertion:
        """See :meth:`BackpackApi.put_badgeclass_assertion`."""
        result = await self._curl_request(Action.ASSERTIONS, entity_id=entity_id, data=data)
        return only(result, RemoteAssertion)

    async def update_assertion(self, entity_id: str, data: Mapping[str, Any]) -> RemoteAssertion:
        """See :meth:`BackpackApi.update_assertion`."""
        result = await self._curl_request(Action.UPDATE_ASSERTION, entity_id=entity_id, data=data)
        return only(result, RemoteAssertion)

    async def import_badge_assertion(self, url: str) -> RemoteAssertion:
        """See :meth:`BackpackApi.import_badge_assertion`."""
        return only(await self._curl_request(Action.IMPORT_BADGE, data=url), RemoteAssertion)

    async def aclose(self) -> None:
        """Close the HTTP client, if this API created it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncBackpackApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _define_mappings(self) -> tuple[ActionMapping, ...]:
        """See :meth:`BackpackApi._define_mappings`."""
        return self._core.mappings

    def _get_auth_user_id(self) -> int:
        """See :meth:`BackpackApi._get_auth_user_id`."""
        return self._core.account.id

    def _get_token_key(self) -> tuple[int, int]:
        """See :meth:`BackpackApi._get_token_key`."""
        return self._core.key

    @staticmethod
    def _check_status(status: str) -> str | None:
        """See :meth:`BackpackApi._check_status`."""
        return check_status(status)

    async def _curl_request(
        self,
        action: Action,
        collection: int | str | None = None,
        entity_id: str | None = None,
        data: Any = None,
    ) -> Any:
        """See :meth:`BackpackApi._curl_request`."""
        mapping = self._core.find(action)
        if self._core.version is ApiVersion.V1 and "user" in mapping.endpoint.path_params:
            await self.authenticate()
        params = self._core.params_for(mapping, collection, entity_id)
        body = self._core.body_for(mapping, data)
        if not mapping.auth:
            return await self._client.perform(mapping, self._core.api_url, params=params, data=body)
        token, _ = await self._access_token()
        try:
            return await self._send_with(mapping, params, body, token)
        except AuthenticationError as exc:
            if not is_token_refusal(exc):
                raise
        token, _ = await self._access_token(rejected=token.access_token.reveal())
        return await self._send_with(mapping, params, body, token)

    async def _send_with(
        self, mapping: ActionMapping, params: dict[str, str | int], body: Any, token: CachedToken
    ) -> Any:
        return await self._client.perform(
            mapping,
            self._core.api_url,
            params=params,
            data=body,
            token=token.access_token.reveal(),
        )

    async def _authenticate_v1(self) -> Authentication:
        if self._core.remote_user_id is not None:
            return self._core.v1_authentication(self._core.remote_user_id, from_cache=True)
        mapping = self._core.find(Action.USER)
        try:
            user = await self._client.perform(
                mapping, self._core.api_url, data=self._core.body_for(mapping)
            )
        except APIStatusError as exc:
            raise as_login_error(exc) from exc
        return self._core.v1_authentication(only(user, DisplayerUser).user_id, from_cache=False)

    async def _access_token(self, rejected: str | None = None) -> tuple[CachedToken, bool]:
        memo = self._core.usable_memo()
        if memo is not None and rejected is None:
            return memo, True
        async with async_lock(self._core):
            cached = await in_thread(self._core.load_token)
            step = next_token_step(cached, now_utc(), rejected)
            if step is TokenStep.USE and cached is not None:
                self._core.token = cached
                return cached, True
            grant = None
            if step is TokenStep.REFRESH and cached is not None and cached.refresh_token:
                grant = await self._refresh(cached.refresh_token)
            if grant is None:
                grant = await self._login()
            final = grant
            return await in_thread(lambda: self._core.save_grant(final)), False

    async def _refresh(self, refresh_token: Secret) -> TokenGrant | None:
        try:
            return await self._client.refresh_grant(self._core.api_url, refresh_token.reveal())
        except APIStatusError:
            return None

    async def _login(self) -> TokenGrant:
        return await self._client.password_grant(
            self._core.api_url, self._core.account.email, self._core.password()
        )
