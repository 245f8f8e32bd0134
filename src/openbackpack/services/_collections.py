"""Choosing which of a user's backpack collections to display (Moodle's collections form)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from openbackpack._exceptions import InvalidInputError, UnsupportedActionError
from openbackpack.api import BackpackApi
from openbackpack.client import BackpackClient
from openbackpack.models import ApiVersion, Collection, DisplayerGroup
from openbackpack.services._errors import NotConnectedError
from openbackpack.services._site import require_external_backpacks
from openbackpack.store import BackpackAccount, Provider, SelectedCollection, Store

__all__ = ["CollectionChoice", "account_of", "list_collections", "select_collections"]

_OAUTH_APIS: Final = {ApiVersion.V2P1: "Badge Connect", ApiVersion.V3P0: "the Open Badges 3.0 API"}


@dataclass(frozen=True, slots=True)
class CollectionChoice:
    """One collection a user may display: its id, name, how many badges, and if chosen."""

    id: int | str
    name: str
    badge_count: int
    selected: bool


def account_of(
    store: Store, owner: str, provider_id: int | None = None
) -> tuple[Provider, BackpackAccount]:
    """Return the user's account (on ``provider_id``, or their only one) and its provider.

    Raises:
        NotConnectedError: no account there, or several and no provider named.
    """
    with store.transaction() as tx:
        accounts = tx.accounts.list(owner=owner, provider_id=provider_id)
        if not accounts:
            where = f" on backpack {provider_id}" if provider_id is not None else ""
            raise NotConnectedError(f"user {owner!r} has no backpack account{where}")
        if len(accounts) > 1:
            raise NotConnectedError(
                f"user {owner!r} has accounts on several backpacks; name the backpack"
            )
        return tx.providers.get(accounts[0].provider_id), accounts[0]


def _choice(item: Collection | DisplayerGroup, chosen: set[int | str]) -> CollectionChoice:
    if isinstance(item, DisplayerGroup):
        return CollectionChoice(item.group_id, item.name, item.badges, item.group_id in chosen)
    return CollectionChoice(
        item.entity_id, item.name, len(item.assertions), item.entity_id in chosen
    )


def list_collections(
    store: Store,
    owner: str,
    provider_id: int | None = None,
    *,
    client: BackpackClient | None = None,
) -> list[CollectionChoice]:
    """List the collections the user can display: published v2 collections, public v1 groups.

    Each carries its badge count (v2: assertions in it; v1: the group's count) and whether
    it is currently selected.

    Raises:
        ExternalBackpacksDisabledError: the site switched external backpacks off.
    """
    with store.transaction() as tx:
        require_external_backpacks(tx)
    provider, account = account_of(store, owner, provider_id)
    if provider.api_version.uses_oauth:
        raise UnsupportedActionError(
            "collections",
            provider.api_version.value,
            message=f"backpack {provider.id} uses {_OAUTH_APIS[provider.api_version]} "
            f"(API version {provider.api_version.value}), which has no collections: "
            "`openbackpack badges` lists the user's badges there",
        )
    with BackpackApi(provider, account, store=store, client=client) as api:
        found = api.get_collections()
        chosen = set(api.get_collection_record())
    visible = [c for c in found if isinstance(c, DisplayerGroup) or c.published]
    return [_choice(item, chosen) for item in visible]


def select_collections(
    store: Store,
    owner: str,
    collection_ids: Iterable[int | str],
    provider_id: int | None = None,
    *,
    client: BackpackClient | None = None,
) -> list[SelectedCollection]:
    """Save which collections to display; every id must be one the user can display.

    Raises:
        InvalidInputError: an id that is not among :func:`list_collections`.
        ExternalBackpacksDisabledError: the site switched external backpacks off.
    """
    wanted = list(collection_ids)
    available = {
        str(choice.id): choice.id
        for choice in list_collections(store, owner, provider_id, client=client)
    }
    unknown = [str(key) for key in wanted if str(key) not in available]
    if unknown:
        raise InvalidInputError(f"not a collection this user can display: {', '.join(unknown)}")
    provider, account = account_of(store, owner, provider_id)
    with BackpackApi(provider, account, store=store, client=client) as api:
        return api.set_backpack_collections(account.id, [available[str(k)] for k in wanted])
